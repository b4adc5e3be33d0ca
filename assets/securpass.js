/* Sécur'Pass device side: the phone's key pair and its signatures.
 *
 * Two implementations of one scheme, ECDSA P-256 / SHA-256, signatures in raw r||s form
 * (64 bytes), base64url-encoded; only the public key (JWK x, y) is sent to the bank.
 *
 * - "webcrypto" (secure contexts: https, http://localhost): the private key is made by WebCrypto
 *   as NON-EXTRACTABLE and kept as a CryptoKey in this browser's IndexedDB: it never leaves the
 *   device, and page scripts cannot read its bytes.
 * - "software" (plain HTTP on a local network address, where browsers offer no crypto.subtle):
 *   @noble/curves' p256 (bundled into the /app page, which sets window.__nobleP256; see
 *   secure_phone/ui/device_crypto.py). The private key comes from crypto.getRandomValues and is
 *   kept as raw bytes in IndexedDB: it still never leaves the device, but page scripts of this
 *   origin CAN read it. Weaker; the app says so on that phone.
 * - "none": no IndexedDB or no random source: no key can be made.
 *
 * Every function resolves to an object ({ok: true, ...} or {ok: false, error}) and never
 * rejects: Reflex drops rejected promises.
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

  function failure(e) {
    return { ok: false, error: String((e && (e.name || e.message)) || e) };
  }

  /* Which implementation this browser uses: "webcrypto" | "software" | "none". */
  function mode() {
    try {
      if (!window.indexedDB || !window.crypto) return "none";
      if (window.isSecureContext && window.crypto.subtle) return "webcrypto";
      if (typeof window.crypto.getRandomValues === "function") return "software";
    } catch (e) {
      /* fall through */
    }
    return "none";
  }

  function supported() {
    return mode() !== "none";
  }

  /* The bundled p256 of @noble/curves, once the page module that exposes it has run. */
  async function noble() {
    for (let i = 0; i < 100 && !window.__nobleP256; i++) await new Promise((r) => setTimeout(r, 50));
    return window.__nobleP256 || null;
  }

  async function createWebCryptoKey() {
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const publicJwk = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
    await withStore("readwrite", (s) => s.put({ privateKey: pair.privateKey, publicJwk }, SLOT));
    return { ok: true, jwk: publicJwk, mode: "webcrypto" };
  }

  async function createSoftwareKey() {
    const p256 = await noble();
    if (!p256) return { ok: false, error: "not loaded" };
    // A uniformly random scalar from (groupLen + groupLen/2) random bytes (48 for P-256).
    const seed = crypto.getRandomValues(new Uint8Array(p256.lengths.seed));
    const secretKey = p256.utils.randomSecretKey(seed);
    seed.fill(0);
    const point = p256.getPublicKey(secretKey, false); // 0x04 || x (32) || y (32)
    if (point.length !== 65 || point[0] !== 4) return { ok: false, error: "bad public key" };
    const publicJwk = { kty: "EC", crv: "P-256", x: b64url(point.slice(1, 33)), y: b64url(point.slice(33, 65)) };
    await withStore("readwrite", (s) => s.put({ secretKey, publicJwk, kind: "software" }, SLOT));
    return { ok: true, jwk: publicJwk, mode: "software" };
  }

  async function createKey() {
    try {
      const current = mode();
      if (current === "webcrypto") return await createWebCryptoKey();
      if (current === "software") return await createSoftwareKey();
      return { ok: false, error: "unsupported" };
    } catch (e) {
      return failure(e);
    }
  }

  async function hasKey() {
    try {
      const entry = await withStore("readonly", (s) => s.get(SLOT));
      return { ok: true, present: !!(entry && (entry.privateKey || entry.secretKey)) };
    } catch (e) {
      return failure(e);
    }
  }

  /* Sign `text` (UTF-8) with whichever kind of key this phone holds. */
  async function sign(text) {
    const entry = await withStore("readonly", (s) => s.get(SLOT));
    const data = new TextEncoder().encode(text);
    if (entry && entry.privateKey) {
      if (!(window.isSecureContext && window.crypto && crypto.subtle)) return { ok: false, error: "unsupported" };
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, entry.privateKey, data);
      return { ok: true, signature: b64url(sig) };
    }
    if (entry && entry.secretKey) {
      const p256 = await noble();
      if (!p256) return { ok: false, error: "not loaded" };
      // prehash: SHA-256 of the message; lowS and compact (64-byte r||s) are the defaults.
      const sig = p256.sign(data, entry.secretKey, { prehash: true });
      if (sig.length !== 64) return { ok: false, error: "bad signature" };
      return { ok: true, signature: b64url(sig) };
    }
    return { ok: false, error: "no key" };
  }

  /* Sign exactly the text shown in the element #securpass-challenge (plus an optional suffix,
   * such as the refusal reason): what the customer approves is what the phone signs. */
  async function signShown(suffix) {
    try {
      const shown = document.getElementById("securpass-challenge");
      if (!shown) return { ok: false, error: "nothing shown" };
      return await sign(shown.textContent + (suffix || ""));
    } catch (e) {
      return failure(e);
    }
  }

  /* Sign a text the server gave (the login on this phone: the server checks the phone holds its key). */
  async function signText(text) {
    try {
      if (typeof text !== "string" || !text) return { ok: false, error: "nothing to sign" };
      return await sign(text);
    } catch (e) {
      return failure(e);
    }
  }

  async function forget() {
    try {
      await withStore("readwrite", (s) => s.delete(SLOT));
      return { ok: true };
    } catch (e) {
      return failure(e);
    }
  }

  window.SecurPass = { supported, mode, createKey, hasKey, signShown, signText, forget };

  /* Countdowns: every element with data-countdown-until (epoch ms) shows the time left as m:ss. */
  function tick() {
    document.querySelectorAll("[data-countdown-until]").forEach((el) => {
      const left = Math.max(0, Math.round((Number(el.dataset.countdownUntil) - Date.now()) / 1000));
      const text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (el.textContent !== text) el.textContent = text;
    });
  }
  /* Time-limit warnings (WCAG 2.2.1): an element with data-warn-until (epoch ms) is shown one minute before;
     it has role="alert", so screen readers announce it as it appears. */
  function warn() {
    document.querySelectorAll("[data-warn-until]").forEach((el) => {
      const until = Number(el.dataset.warnUntil);
      const due = until > 0 && until - Date.now() <= 60000;
      if (due !== el.hasAttribute("data-due")) el.toggleAttribute("data-due", due);
    });
  }
  setInterval(() => { tick(); warn(); }, 1000);
  warn();
  tick();
})();
