/**
 * Finds where a JSON text stops being valid JSON. V8's JSON.parse messages carry a position for some
 * errors ("... in JSON at position 14") but not for others ("Unexpected token '}', ... is not valid JSON"),
 * so config errors could not always say "line 3 column 5". This scanner walks the text once (iteratively:
 * no recursion, so deeply nested input cannot overflow the stack) and returns the offset of the first
 * offending character, or the text length for an unexpected end.
 */

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]{4}$/;
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Offset of the first syntax error in `text`, or -1 when it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const stack: ('[' | '{')[] = [];
  const skipWs = (): void => {
    while (i < n && WS.has(text[i])) i++;
  };

  /** Scans a string starting at the opening quote; returns the error offset or -1. */
  const scanString = (): number => {
    i++; // opening quote
    while (i < n) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        return -1;
      }
      if (ch < ' ') return i; // raw control characters are not allowed inside strings
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === undefined) return n;
        if (esc === 'u') {
          if (!HEX.test(text.slice(i + 2, i + 6))) return Math.min(i + 2, n);
          i += 6;
        } else if (ESCAPES.has(esc)) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return n;
  };

  /** Scans one scalar or opens a container at i; returns the error offset or -1. */
  const scanValue = (): number => {
    skipWs();
    if (i >= n) return n;
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      stack.push(ch);
      i++;
      return -1;
    }
    if (ch === '"') return scanString();
    for (const word of ['true', 'false', 'null']) {
      if (ch === word[0]) {
        for (let k = 0; k < word.length; k++) {
          if (i + k >= n) return n;
          if (text[i + k] !== word[k]) return i + k;
        }
        i += word.length;
        return -1;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return ch === '-' ? Math.min(i + 1, n) : i;
    i += m[0].length;
    return -1;
  };

  // State machine: after a value, look at the innermost container to know what may follow.
  let err = scanValue();
  if (err >= 0) return err;
  let justOpened = stack.length > 0;
  for (;;) {
    skipWs();
    const top = stack[stack.length - 1];
    if (top === undefined) return i < n ? i : -1;
    if (i >= n) return n;
    const ch = text[i];
    if (top === '[') {
      if (ch === ']') {
        stack.pop();
        i++;
        justOpened = false;
        continue;
      }
      if (!justOpened) {
        if (ch !== ',') return i;
        i++;
      }
    } else {
      if (ch === '}') {
        stack.pop();
        i++;
        justOpened = false;
        continue;
      }
      if (!justOpened) {
        if (ch !== ',') return i;
        i++;
        skipWs();
      }
      if (i >= n) return n;
      if (text[i] !== '"') return i;
      err = scanString();
      if (err >= 0) return err;
      skipWs();
      if (i >= n) return n;
      if (text[i] !== ':') return i;
      i++;
    }
    const depth = stack.length;
    err = scanValue();
    if (err >= 0) return err;
    justOpened = stack.length > depth;
  }
}

/** 1-based line and column of `offset` in `text` (column counts UTF-16 units, like editors mostly do). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let k = 0; k < end; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
