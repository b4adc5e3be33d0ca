/* Sécur'Pass device side: the phone's key pair and its signatures.
 *
 * The private key is made by WebCrypto as NON-EXTRACTABLE and kept as a CryptoKey in this
 * browser's IndexedDB: it never leaves the device, and page scripts cannot read its bytes.
 * Only the public key (JWK x, y) is sent to the bank. Signatures are ECDSA P-256 / SHA-256 in
 * WebCrypto's raw r||s form, base64url-encoded. Every function resolves to an object
 * ({ok: true, ...} or {ok: false, error}) and never rejects: Reflex drops rejected promises.
 */
(function () {
  "use strict";
  const DB = "securpass", STORE = "keys", SLOT = "current";

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function withStore(mode, fn) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = fn(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  function b64url(bytes) {
    let bin = "";
    new Uint8Array(bytes).forEach((b) => (bin += String.fromCharCode(b)));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function supported() {
    return !!(window.isSecureContext && window.crypto && crypto.subtle && window.indexedDB);
  }

  async function createKey() {
    try {
      if (!supported()) return { ok: false, error: "unsupported" };
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
      const publicJwk = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
      await withStore("readwrite", (s) => s.put({ privateKey: pair.privateKey, publicJwk }, SLOT));
      return { ok: true, jwk: publicJwk };
    } catch (e) {
      return { ok: false, error: String(e && e.name || e) };
    }
  }

  async function hasKey() {
    try {
      const entry = await withStore("readonly", (s) => s.get(SLOT));
      return { ok: true, present: !!(entry && entry.privateKey) };
    } catch (e) {
      return { ok: false, error: String(e && e.name || e) };
    }
  }

  /* Sign exactly the text shown in the element #securpass-challenge (plus an optional suffix,
   * such as the refusal reason). */
  async function signShown(suffix) {
    try {
      const shown = document.getElementById("securpass-challenge");
      if (!shown) return { ok: false, error: "nothing shown" };
      const entry = await withStore("readonly", (s) => s.get(SLOT));
      if (!entry || !entry.privateKey) return { ok: false, error: "no key" };
      const text = shown.textContent + (suffix || "");
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, entry.privateKey, new TextEncoder().encode(text));
      return { ok: true, signature: b64url(sig) };
    } catch (e) {
      return { ok: false, error: String(e && e.name || e) };
    }
  }

  async function forget() {
    try {
      await withStore("readwrite", (s) => s.delete(SLOT));
      return { ok: true };
    } catch (e) {
      return { ok: false, error: String(e && e.name || e) };
    }
  }

  window.SecurPass = { supported, createKey, hasKey, signShown, forget };

  /* Countdowns: every element with data-countdown-until (epoch ms) shows the time left as m:ss. */
  function tick() {
    document.querySelectorAll("[data-countdown-until]").forEach((el) => {
      const left = Math.max(0, Math.round((Number(el.dataset.countdownUntil) - Date.now()) / 1000));
      const text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(tick, 1000);
  tick();
})();
