// The personal cabinet's small helpers. A static file, not inline scripts: the site's CSP
// runs no inline JavaScript. Each part acts only on a page that has its elements.
(function () {
  "use strict";

  // Top-up (cabinet/money/topup.html): quick amounts fill the field (without JavaScript they
  // pay that amount at once). They come after the Pay button, so Enter in the field still
  // means Pay.
  document.querySelectorAll("#topup-form .quick-amount").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      const field = button.form.querySelector("input[name=amount]");
      field.value = button.dataset.amount;
      document.getElementById("pay-button").focus();
    });
  });

  // Referrals (cabinet/referrals/referrals.html): copy or share the invitation link. The
  // messages come translated in the status element's data attributes.
  const input = document.getElementById("referral-link");
  const status = document.getElementById("copy-status");
  if (!input || !status) return;
  const copied = status.dataset.copied;
  const select = status.dataset.select;
  function selectLink() { input.focus(); input.select(); }
  input.addEventListener("focus", function () { input.select(); });
  document.getElementById("copy-link").addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { status.textContent = copied; },
        function () { selectLink(); status.textContent = select; });
      return;
    }
    selectLink();
    let done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    status.textContent = done ? copied : select;
  });
  const share = document.getElementById("share-link");
  if (navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({title: status.dataset.shareTitle, url: input.value}).catch(function () {});
    });
  }
})();
