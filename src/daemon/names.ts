// Session name rules of pythond 0.4: canonical lowercase, 1-80 characters, no Windows device names.
const NAME = /^[a-z0-9_-]{1,80}$/;
const DEVICE = /^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\.|$)/i;

export function isValidName(name: string): boolean {
  return NAME.test(name) && !DEVICE.test(name);
}
