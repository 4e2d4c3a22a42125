/**
 * Opt-out keywords (issue 17 item 4; the CTIA / carrier list Twilio also honours): a reply that is
 * exactly one of these, in any case, with surrounding blanks and punctuation ignored, stops every
 * later text to that number at once. Only the whole message counts, as carriers and Twilio
 * define it: "End of day works for me" must not opt anyone out.
 */
export const OPT_OUT_KEYWORDS = ['STOP', 'QUIT', 'END', 'REVOKE', 'OPT OUT', 'CANCEL', 'UNSUBSCRIBE'] as const;

/** START / UNSTOP / YES re-subscribe, as the carriers define it. */
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES'] as const;

function words(body: string): string {
  return body
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\u00a0]+/g, ' ')
    .replace(/^[\s.!,;:]+|[\s.!,;:]+$/g, '');
}

export type KeywordKind = 'opt-out' | 'opt-in' | null;

export function classifyKeyword(body: string): KeywordKind {
  const text = words(body);
  // OPTOUT written as one word is common on phones.
  const joined = text === 'OPTOUT' ? 'OPT OUT' : text;
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(joined)) return 'opt-out';
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(text)) return 'opt-in';
  return null;
}

export const OPT_OUT_CONFIRMATION =
  'You will not get more texts from this clinic. Reply START to receive them again. Call the clinic for anything urgent.';
export const OPT_IN_CONFIRMATION = 'You will receive texts from this clinic again. Reply STOP to stop.';
