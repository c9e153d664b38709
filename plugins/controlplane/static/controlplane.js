// Command form: show only the settings that belong to the chosen command.
(function () {
  "use strict";
  var form = document.getElementById("command-form");
  if (!form) { return; }
  var type = form.querySelector("#command_type");
  var groups = form.querySelectorAll("[data-params-for]");

  function update() {
    groups.forEach(function (group) {
      var shown = group.getAttribute("data-params-for") === type.value;
      group.classList.toggle("d-none", !shown);
      group.disabled = !shown;
      group.querySelectorAll("input").forEach(function (input) { input.required = shown; });
    });
  }

  type.addEventListener("change", update);
  update();
})();
