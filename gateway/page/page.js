/* global document, window, openpgp */
// The patient page (issue 17 item 3). A link preview only ever GETs the static page: nothing is
// opened until the patient taps. The link secret is the URL's #fragment: browsers never send it
// to the server; it stays in this page and decrypts the ciphertext the gateway returns after the
// date-of-birth check. No third-party request, no referrer, no inline script (CSP).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const id = window.location.pathname.split('/').pop() || '';
  const secret = window.location.hash.slice(1);
  // The fragment leaves the address bar at once, so it is not in the history or a screenshot.
  window.history.replaceState(null, '', window.location.pathname);

  const say = (el, text) => {
    $(el).textContent = text;
  };

  $('tap').addEventListener('click', () => {
    $('start').hidden = true;
    $('check').hidden = false;
    $('dob').focus();
  });

  const messages = {
    'wrong-dob': (a) =>
      `That date of birth does not match. ${a.triesLeft} ${a.triesLeft === 1 ? 'try' : 'tries'} left.`,
    locked: (a) =>
      `Too many tries. You can try again after ${new Date(a.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`,
    expired: () => 'This message has expired. Please contact your clinic.',
    'not-found': () => 'This link is not valid. Please check the text message or contact your clinic.',
  };

  $('check').addEventListener('submit', (event) => {
    event.preventDefault();
    say('problem', '');
    say('status', 'Checking…');
    fetch(`/api/m/${encodeURIComponent(id)}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob: $('dob').value }),
      referrerPolicy: 'no-referrer',
      credentials: 'omit',
    })
      .then((res) => res.json())
      .then((answer) => {
        say('status', '');
        if (answer.ciphertext) return show(answer.ciphertext);
        const text = messages[answer.error];
        say('problem', text ? text(answer) : 'Something went wrong. Please try again later.');
        if (answer.error === 'locked' || answer.error === 'expired' || answer.error === 'not-found')
          $('check').querySelector('button').disabled = true;
      })
      .catch(() => say('problem', 'The clinic could not be reached. Please try again later.'));
  });

  function show(b64) {
    const bytes = Uint8Array.from(window.atob(b64), (c) => c.charCodeAt(0));
    return openpgp
      .readMessage({ binaryMessage: bytes })
      .then((message) => openpgp.decrypt({ message, passwords: [secret], format: 'utf8' }))
      .then(({ data }) => {
        $('check').hidden = true;
        $('message').hidden = false;
        say('text', data);
        $('text').focus();
      })
      .catch(() => say('problem', 'This link is incomplete or was changed, so the message cannot be opened.'));
  }
})();
