/*
 * A field's error message is about the value the server was sent. Once the person changes
 * that value the message is stale ("Needed to approve" under a field now filled in), so it is
 * hidden; it comes back if the value returns to what was sent. The server checks again on
 * submit either way.
 */
(function () {
  "use strict";

  var sent = new WeakMap();

  function valueOf(control) {
    if (control.type === "checkbox" || control.type === "radio") {
      return String(control.checked);
    }
    return control.value;
  }

  function remember() {
    var controls = document.querySelectorAll(".has-error input, .has-error select, .has-error textarea");
    for (var i = 0; i < controls.length; i++) {
      sent.set(controls[i], valueOf(controls[i]));
    }
  }

  function update(event) {
    var control = event.target;
    var field = control.closest && control.closest(".has-error");
    if (!field || !sent.has(control)) {
      return;
    }
    var stale = valueOf(control) !== sent.get(control);
    var messages = field.querySelectorAll(".field-error");
    for (var i = 0; i < messages.length; i++) {
      messages[i].hidden = stale;
    }
    field.classList.toggle("error-stale", stale);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", remember);
  } else {
    remember();
  }
  document.addEventListener("input", update);
  document.addEventListener("change", update);
})();
