// xterm.js builds <style> elements as it renders; the page's Content-Security-Policy admits
// only those carrying this response's nonce. Stamp it on every <style> when it is created
// (a nonce set after insertion is too late for the browser).
export function stampStyleNonce(nonce: string): void {
  if (!nonce) return;
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    const el = create.call(this, tag, options);
    if (String(tag).toLowerCase() === "style") el.setAttribute("nonce", nonce);
    return el;
  } as typeof create;
}
