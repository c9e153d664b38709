// Shell behaviour shared by every page.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  // fetch() wrapper for JSON API calls from pages: sends the CSRF token and turns the API's
  // {"error": {"message"}} answers into thrown Errors with a readable message.
  window.HI.api = function (url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.body && typeof options.body !== "string") {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.body);
    }
    if (options.method && options.method.toUpperCase() !== "GET") {
      headers["X-CSRF-Token"] = csrf;
    }
    options.headers = headers;
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = (data.error && data.error.message) || window.HI.t("Something went wrong. Please try again.");
          throw new Error(message);
        }
        return data;
      });
    });
  };

  // Animated counters: <span data-countup="123.4" data-decimals="1">
  document.querySelectorAll("[data-countup]").forEach(function (el) {
    if (!window.countUp) { return; }
    var value = parseFloat(el.getAttribute("data-countup"));
    var decimals = parseInt(el.getAttribute("data-decimals") || "0", 10);
    var counter = new window.countUp.CountUp(el, value, { decimalPlaces: decimals, duration: 1.2 });
    if (!counter.error) { counter.start(); }
  });
})();
