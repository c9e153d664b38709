// Command form: show only the settings that belong to the chosen command and target.
(function () {
  "use strict";
  var form = document.getElementById("command-form");
  if (!form) { return; }

  function toggle(select, attribute) {
    var groups = form.querySelectorAll("[" + attribute + "]");
    function update() {
      groups.forEach(function (group) {
        var shown = group.getAttribute(attribute) === select.value;
        group.classList.toggle("d-none", !shown);
        group.querySelectorAll("input, select").forEach(function (input) {
          input.disabled = !shown;
          if (input.tagName === "INPUT") { input.required = shown; }
        });
      });
    }
    select.addEventListener("change", update);
    update();
  }

  toggle(form.querySelector("#command_type"), "data-params-for");
  toggle(form.querySelector("#target_kind"), "data-target-for");
})();
