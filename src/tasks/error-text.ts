// A failed task's error message is shown to whoever may read the task (an anonymous uploader too):
// it must not carry the server's file system layout. Absolute paths and file: URLs in a message are
// replaced by `<path>`; the traceback (staff only) keeps them for whoever debugs.

// A POSIX path of two or more segments not inside a word or a URL (so "1/2" and "/api/v1/…" in a sentence
// after "http://host" stay), a Windows drive path, or a file: URL.
const PATHS = /file:\/\/[^\s'"`<>()]*|(?<![\w.~:/\\-])\/(?:[^\s'"`<>(),;:/\\]+\/)+[^\s'"`<>(),;:/\\]*|\b[A-Za-z]:\\(?:[^\s'"`<>(),;:\\]+\\)*[^\s'"`<>(),;:\\]*/g;

/** The message with every absolute server path replaced by `<path>`; at most 2,000 characters. */
export function scrubErrorMessage(message: string): string {
  const scrubbed = message.replace(PATHS, '<path>');
  return scrubbed.length > 2000 ? `${scrubbed.slice(0, 2000)}…` : scrubbed;
}
