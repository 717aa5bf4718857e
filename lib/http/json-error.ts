/**
 * Where a body stops being JSON, without quoting it. V8's own message quotes the text around the
 * fault (`Unexpected token 'R', "{"passwd":REDISpw-9K"... is not valid JSON`), which put a caller's
 * password in our logs and in the 400 answer; a position is all a caller needs to find the fault.
 */

/** Whether parsing stopped for want of more text, rather than at a character that cannot be there. */
function failsOnlyAtEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    if (!(error instanceof SyntaxError)) return false;
    if (/end of (JSON )?input/i.test(error.message)) return true;
    // V8 names a position for most faults; one at the prefix's end means it only ran out of text.
    const position = /at position (\d+)/.exec(error.message)?.[1];
    return position !== undefined && Number(position) >= prefix.length;
  }
}

/**
 * The 0-based index of the first character at which `text` cannot be JSON: the shortest prefix
 * that fails for any reason other than ending too soon. A prefix that fails so keeps failing as it
 * grows, so a binary search finds it in a few parses.
 */
export function jsonErrorPosition(text: string): number {
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (failsOnlyAtEnd(text.slice(0, middle))) good = middle;
    else bad = middle;
  }
  return bad - 1;
}

/** The 400's message for a body that is not JSON: the position of the fault, never its text. */
export function malformedJsonMessage(text: string): string {
  const position = jsonErrorPosition(text);
  const atEnd = position >= text.length - 1 && failsOnlyAtEnd(text);
  return atEnd ? `request body is not valid JSON: it ends early (${text.length} characters)` : `request body is not valid JSON at character ${position + 1}`;
}
