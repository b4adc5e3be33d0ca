/* Browser-side helpers of the screens.
 *
 * 1. Formats a phone number field as the customer types, in the browser (no round trip, so no
 * keystroke is ever lost): numbers of the French plan typed nationally ("0612345678") are
 * grouped by two ("06 12 34 56 78"). Anything else is left exactly as typed; the server
 * validates and formats it. Only reformats while the caret is at the end of the field. */
(function () {
  "use strict";
  const FRENCH_PLAN = new Set(["FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC"]);

  function format(value, region) {
    if (!FRENCH_PLAN.has(region) || !/^[\d\s.\-]*$/.test(value)) return value;
    const digits = value.replace(/\D/g, "");
    if (!digits.startsWith("0") || digits.length > 10) return value;
    return digits.replace(/(\d{2})(?=\d)/g, "$1 ");
  }

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.dataset.phoneFormat) return;
    if (field.selectionStart !== field.value.length) return;
    const formatted = format(field.value, field.dataset.phoneFormat);
    if (formatted !== field.value) field.value = formatted;
  });

  /* 2. When a screen is replaced by another (for instance pushed by the phone's answer) and the
   * focus was lost with the old screen, move it to the new screen's title, as screen readers
   * expect. A focus the customer placed elsewhere is never taken away — nor, in a pane of /demo, a
   * focus in another pane or in the page around it (this framed document does not hold the focus). */
  let lastTitle = null;
  new MutationObserver(() => {
    const title = document.getElementById("step-title");
    if (!title || title === lastTitle) return;
    lastTitle = title;
    const active = document.activeElement;
    const elsewhere = window.parent !== window && !document.hasFocus();
    if (!elsewhere && (!active || active === document.body || !active.isConnected)) title.focus();
    webOtp();
  }).observe(document.documentElement, { childList: true, subtree: true });

  /* 3. WebOTP, where the browser offers it (Chrome on Android): the SMS that proves the new number ends
   * with "@<this host> #<code>", so the browser offers to fill the field marked data-web-otp with it.
   * Elsewhere nothing happens: autocomplete="one-time-code" lets iOS suggest it, and typing always works. */
  let otpField = null;
  function webOtp() {
    const field = document.querySelector("input[data-web-otp]");
    if (!field || field === otpField || !("OTPCredential" in window)) return;
    otpField = field;
    const ac = new AbortController();
    new MutationObserver((_, observer) => {
      if (!field.isConnected) { ac.abort(); observer.disconnect(); }
    }).observe(document.documentElement, { childList: true, subtree: true });
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: ac.signal }).then((otp) => {
      if (otp && otp.code && field.isConnected && !field.value) {
        field.value = otp.code;
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }).catch(() => {});
  }
})();
