// Client-side strings, translated on the server from the same gettext catalog and handed
// over in <script id="hi-i18n" type="application/json">. Usage: HI.t("Saved").
(function () {
  "use strict";
  var node = document.getElementById("hi-i18n");
  var strings = {};
  try {
    strings = node ? JSON.parse(node.textContent) : {};
  } catch (e) {
    strings = {};
  }
  window.HI = window.HI || {};
  window.HI.t = function (text) {
    return Object.prototype.hasOwnProperty.call(strings, text) ? strings[text] : text;
  };
  window.HI.locale = document.documentElement.lang || "en";
})();
