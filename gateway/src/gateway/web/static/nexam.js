// Nexam pages: progressive enhancements only; every form works without this file.
(function () {
  "use strict";

  var RULES = {
    min_length: function (p) { return p.length >= 8; },
    max_length: function (p) { return p.length <= 128; },
    uppercase: function (p) { return p !== p.toLowerCase(); },
    lowercase: function (p) { return p !== p.toUpperCase(); },
    digit: function (p) { return /\p{Nd}/u.test(p); }
  };

  function setText(element, text) {
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function passwordChecklists() {
    document.querySelectorAll("[data-password-rules]").forEach(function (list) {
      var input = document.getElementById(list.getAttribute("data-password-rules"));
      if (!input) { return; }
      var update = function () {
        list.querySelectorAll("[data-rule]").forEach(function (item) {
          var met = RULES[item.getAttribute("data-rule")](input.value);
          var said = input.value.length > 0 || met;
          item.classList.toggle("met", met);
          item.classList.toggle("unmet", !met && said);
          // written only when it changes: the list is a live region
          setText(item.querySelector(".rule-sign"), said ? (met ? "✓ " : "✗ ") : "");
          setText(item.querySelector(".rule-state"),
            said ? (met ? list.dataset.met : list.dataset.unmet) + " " : "");
        });
      };
      input.addEventListener("input", update);
      if (input.value) { update(); }
    });
  }

  function showPassword() {
    document.querySelectorAll("[data-show-password]").forEach(function (box) {
      var input = document.getElementById(box.getAttribute("data-show-password"));
      if (!input) { return; }
      box.addEventListener("change", function () { input.type = box.checked ? "text" : "password"; });
    });
  }

  function cooldowns() {
    document.querySelectorAll("[data-cooldown]").forEach(function (button) {
      var left = parseInt(button.getAttribute("data-cooldown"), 10) || 0;
      var status = button.parentElement.querySelector("[data-cooldown-status]");
      var template = button.getAttribute("data-cooldown-text") || "{n}";
      if (left <= 0) { return; }
      button.disabled = true;
      var tick = function () {
        if (left <= 0) {
          button.disabled = false;
          if (status) { status.textContent = ""; }
          return;
        }
        if (status) { status.textContent = template.replace("{n}", String(left)); }
        left -= 1;
        window.setTimeout(tick, 1000);
      };
      tick();
    });
  }

  function focusErrors() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    passwordChecklists();
    showPassword();
    cooldowns();
    focusErrors();
  });
})();
