// A command prefix typed as one word ("ssh -p 2222 user@host") split as /bin/sh would split
// it: blanks separate words, '…' and "…" quote, a backslash escapes; no expansion of any kind.
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && (text[i + 1] === '"' || text[i + 1] === "\\")) word += text[++i];
      else word += ch;
    } else if (ch === " " || ch === "\t" || ch === "\n") {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (ch === "\\" && i + 1 < text.length) word = (word ?? "") + text[++i];
    else word = (word ?? "") + ch;
  }
  if (quote) throw new Error(`unbalanced ${quote} in ${JSON.stringify(text)}`);
  if (word !== null) words.push(word);
  return words;
}
