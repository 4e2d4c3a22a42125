/* global document, window, openpgp */
// The patient page (issue 17 item 3). A link preview only ever GETs the static page: nothing is
// opened until the patient taps. The link secret is the URL's #fragment: browsers never send it
// to the server; it stays in this page and decrypts the ciphertext the gateway returns after the
// identity check — the date of birth, or a one-time code texted to the phone on record, whichever
// the sender chose. A date of birth needs a code too when the link is opened more than 24 h after
// the text arrived, or on another device than the first one that opened it: the page keeps a
// random device token in localStorage (one per browser) and sends it with the check.
// No third-party request, no referrer, no inline script (CSP).
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
  const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const tries = (n) => `${n} ${n === 1 ? 'try' : 'tries'} left.`;

  const messages = {
    'wrong-dob': (a) => `That date of birth does not match. ${tries(a.triesLeft)}`,
    'wrong-code': (a) => `That code does not match. ${tries(a.triesLeft)}`,
    'no-code': () => 'That code is no longer valid. Ask for a new code.',
    'code-expired': () => 'That code has expired. Ask for a new code.',
    'too-soon': (a) => `A code was just sent. You can ask for another after ${time(a.resendAt)}.`,
    'too-many': () => 'Too many codes were sent for this message. Please contact your clinic.',
    'opted-out': () => 'This number asked not to get texts. Text START to the clinic to receive a code.',
    'sms-failed': () => 'The code could not be sent. Please try again later.',
    locked: (a) => `Too many tries. You can try again after ${time(a.until)}.`,
    expired: () => 'This message has expired. Please contact your clinic.',
    'not-found': () => 'This link is not valid. Please check the text message or contact your clinic.',
    'not-verified': () => 'This reply can no longer be sent. Open the message again to reply.',
    'too-large': () => 'Your reply is too long. Please shorten it.',
    'bad-reply': () => 'Your reply could not be encrypted correctly, so it was not sent.',
    'no-replies': () => 'Replies to this message are not possible. Please contact your clinic.',
  };
  const final = new Set(['locked', 'expired', 'not-found', 'too-many', 'not-verified', 'no-replies']);
  const bytesOf = (b64) => Uint8Array.from(window.atob(b64), (c) => c.charCodeAt(0));
  const base64Of = (bytes) => {
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return window.btoa(text);
  };
  /** What the gateway allowed after the check: one reply, encrypted to these keys. */
  let grant = null;
  /** The date of birth the gateway accepted when it asked for a code too (sent again with the code). */
  let stepUpDob = null;

  /** This browser's device token (128 random bits); none when storage is blocked (a new device each time). */
  function deviceToken() {
    try {
      let token = window.localStorage.getItem('clinic-device');
      if (!/^[A-Za-z0-9_-]{22}$/.test(token || '')) {
        const bytes = window.crypto.getRandomValues(new Uint8Array(16));
        token = base64Of(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        window.localStorage.setItem('clinic-device', token);
      }
      return token;
    } catch {
      return undefined;
    }
  }

  const post = (step, body) =>
    fetch(`/api/m/${encodeURIComponent(id)}/${step}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      referrerPolicy: 'no-referrer',
      credentials: 'omit',
    }).then((res) => res.json());

  /** Shows why not; a final answer disables the form's buttons. */
  function problem(answer, form) {
    const text = messages[answer.error];
    say('problem', text ? text(answer) : 'Something went wrong. Please try again later.');
    if (final.has(answer.error) && form) for (const b of $(form).querySelectorAll('button')) b.disabled = true;
  }
  const unreachable = () => say('problem', 'The clinic could not be reached. Please try again later.');

  $('tap').addEventListener('click', () => {
    $('start').hidden = true;
    say('status', 'Opening…');
    post('check', {})
      .then((answer) => {
        say('status', '');
        if (answer.check === 'code') {
          $('code-check').hidden = false;
          $('code').focus();
          return sendCode();
        }
        if (answer.check === 'dob') {
          $('check').hidden = false;
          $('dob').focus();
          return undefined;
        }
        return problem(answer, null);
      })
      .catch(unreachable);
  });

  function sendCode() {
    say('problem', '');
    return post('code', {})
      .then((answer) => {
        if (answer.error) return problem(answer, 'code-check');
        say('status', `We sent a code by text message. It is valid until ${time(answer.expiresAt)}.`);
        return undefined;
      })
      .catch(unreachable);
  }
  $('resend').addEventListener('click', sendCode);

  function open(proof, form) {
    say('problem', '');
    say('status', 'Checking…');
    post('open', { ...proof, device: deviceToken() })
      .then((answer) => {
        say('status', '');
        if (answer.ciphertext) return show(answer.ciphertext, form, answer.reply);
        if (answer.error === 'code-required') return stepUp(proof.dob, answer);
        return problem(answer, form);
      })
      .catch(unreachable);
  }
  $('check').addEventListener('submit', (event) => {
    event.preventDefault();
    open({ dob: $('dob').value }, 'check');
  });
  $('code-check').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = $('code').value;
    open(stepUpDob === null ? { code } : { dob: stepUpDob, code }, 'code-check');
  });

  /** The date of birth was right, but this open needs a code too: the gateway texted one. */
  function stepUp(dob, answer) {
    stepUpDob = dob;
    $('check').hidden = true;
    say(
      'code-why',
      'Your date of birth is right. Because this message is opened more than a day after it was sent, ' +
        'or on a different phone or browser, we also texted a code to the phone this message was sent to.',
    );
    $('code-check').hidden = false;
    $('code').focus();
    say(
      'status',
      answer.expiresAt
        ? `We sent a code by text message. It is valid until ${time(answer.expiresAt)}.`
        : `A code was just sent by text message. You can ask for another after ${time(answer.resendAt)}.`,
    );
  }

  function show(b64, form, reply) {
    return openpgp
      .readMessage({ binaryMessage: bytesOf(b64) })
      .then((message) => openpgp.decrypt({ message, passwords: [secret], format: 'utf8' }))
      .then(({ data }) => {
        $(form).hidden = true;
        $('message').hidden = false;
        say('text', data);
        $('text').focus();
        grant = reply || null;
        $('reply').hidden = !grant;
      })
      .catch(() => say('problem', 'This link is incomplete or was changed, so the message cannot be opened.'));
  }
  // The reply is encrypted here, to the keys the sender handed the gateway (the staff member's
  // and the clinic's archive key); the gateway gets only the ciphertext.
  $('reply').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('reply-text').value.trim();
    if (!text || !grant) return;
    const button = $('reply').querySelector('button');
    button.disabled = true;
    say('problem', '');
    say('status', 'Sending your reply…');
    openpgp
      .readKeys({ binaryKeys: bytesOf(grant.keys) })
      .then((encryptionKeys) =>
        openpgp
          .createMessage({ text })
          .then((message) => openpgp.encrypt({ message, encryptionKeys, format: 'binary' })),
      )
      .then(
        (sealed) => post('reply', { token: grant.token, ciphertext: base64Of(sealed) }),
        () => ({ error: 'bad-reply' }),
      )
      .then((answer) => {
        say('status', '');
        if (answer.replyId) {
          grant = null;
          $('reply').hidden = true;
          say('status', 'Your reply was sent to your clinic.');
          return;
        }
        button.disabled = false;
        problem(answer, 'reply');
      })
      .catch(() => {
        button.disabled = false;
        unreachable();
      });
  });
})();
