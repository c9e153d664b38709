// Profit calculator: recalculates through the API while the user types, so the figures
// follow the form without a page load. The form still works without this script (GET).
(function () {
  "use strict";
  var form = document.getElementById("calculator-form");
  if (!form || !window.HI || !window.HI.api) { return; }
  var FIELDS = ["hashrate_ths", "power_w", "electricity_usd_per_kwh", "btc_price_usd",
    "difficulty", "fees_per_block_btc", "block_height"];
  var OPTIONAL = { fees_per_block_btc: 0 };
  var api = form.getAttribute("data-api");
  var errorBox = document.getElementById("calculator-error");
  var example = document.getElementById("calculator-example");
  var preset = form.elements.preset;
  var applyButton = form.querySelector("[data-preset-apply]");
  var timer = null;
  var sequence = 0;

  if (applyButton) { applyButton.classList.add("d-none"); }

  function format(value, min, max) {
    if (value === null || value === undefined) { return "—"; }
    if (Math.abs(value) < 0.5 * Math.pow(10, -max)) { value = 0; }
    return new Intl.NumberFormat(window.HI.locale === "zh-CN" ? "zh-CN" : "en-US", {
      minimumFractionDigits: min, maximumFractionDigits: max
    }).format(value);
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.classList.toggle("d-none", !message);
  }

  // The body for the API, or null when a field is not a usable number (marked invalid).
  function readForm() {
    var body = {};
    var ok = true;
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      var raw = input.value.trim();
      var value = raw === "" && name in OPTIONAL ? OPTIONAL[name] : Number(raw);
      var valid = raw !== "" || name in OPTIONAL;
      valid = valid && isFinite(value) && value >= 0 && input.validity.valid;
      if (name === "block_height") { valid = valid && Math.floor(value) === value; }
      input.classList.toggle("is-invalid", !valid);
      if (valid) { body[name] = value; } else { ok = false; }
    });
    return ok ? body : null;
  }

  function render(result) {
    form.ownerDocument.querySelectorAll("[data-result]").forEach(function (el) {
      var value = result[el.getAttribute("data-result")];
      var min = parseInt(el.getAttribute("data-min"), 10);
      var max = parseInt(el.getAttribute("data-max"), 10);
      el.textContent = format(value, min, max);
      if (el.hasAttribute("data-signed")) {
        el.classList.toggle("text-danger", value !== null && value < 0);
      }
    });
  }

  function update() {
    var body = readForm();
    if (!body) {
      showError(window.HI.t("Please check the numbers marked in red."));
      return;
    }
    var mine = ++sequence;
    window.HI.api(api, { method: "POST", body: body }).then(function (result) {
      if (mine !== sequence) { return; } // an older answer arriving late
      showError("");
      render(result);
      // Keep the address in step, so the figures can be shared or bookmarked.
      var query = new URLSearchParams();
      FIELDS.forEach(function (name) { query.set(name, form.elements[name].value.trim()); });
      if (preset && preset.value) { query.set("preset", preset.value); }
      window.history.replaceState(null, "", form.getAttribute("action") + "?" + query.toString());
    }).catch(function (error) {
      if (mine === sequence) { showError(error.message); }
    });
  }

  function later() {
    if (example) { example.classList.add("d-none"); }
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  }

  FIELDS.forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      // A hand-typed hashrate or power is no longer the catalogue model's.
      if (preset && (name === "hashrate_ths" || name === "power_w")) { preset.value = ""; }
      later();
    });
  });

  if (preset) {
    preset.addEventListener("change", function () {
      var option = preset.options[preset.selectedIndex];
      if (option && option.value) {
        form.elements.hashrate_ths.value = option.getAttribute("data-hashrate");
        form.elements.power_w.value = option.getAttribute("data-power");
      }
      later();
    });
  }
})();
