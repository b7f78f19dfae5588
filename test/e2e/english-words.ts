/**
 * A small English-word detector for the Vietnamese console: words the hub used to send as sentences (alert titles,
 * problems, history, audit actions) and the glue of any English sentence. Ids (`cam-02`, `td-01`), user names and
 * technical names (ONVIF, RTSP, NTP, Webhook, SHA-256) are not in it, so they pass; nor are English words that are
 * also Vietnamese ones or loanwords (a, an, do, no, to, in, camera, video, token).
 */
const WORDS = `
the of at on from by for with and or not is are was were be been has have had does did
this that these those it its there here when while after before since until than then
error failed failure fetch network timeout refused unreachable econnrefused
alert alerts opened acknowledged assigned commented resolved escalated cleared condition system
intrusion crossing tamper tampering motion loss lost stream picture frozen black signal
offline online unknown degraded status health problem problems reported report reports
events event subscribed unsubscribed subscription agent heartbeat sample samples
request view snapshot search export download release retention create update delete
rule rules severity critical warning name kind enabled cooldown schedule threshold
clock skew measured expected seconds minutes change changes changed answer answers does
yes true false null undefined nan object
`;

const SET = new Set(WORDS.split(/\s+/).filter(Boolean));

/** The English words found in `text` (each once, in order). Words are split on every letter, accented or not. */
export function englishWordsIn(text: string): string[] {
  const found = new Set<string>();
  // Letters and digits together: the "be" inside an id like "4dbe-11" is not a word.
  for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0].toLowerCase();
    if (SET.has(w)) found.add(w);
  }
  return [...found];
}
