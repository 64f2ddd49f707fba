// weft's one script: a live character count under the post and edit forms. The pages work
// without it (the server enforces the limit); it only tells people sooner.
"use strict";
(function () {
  var URL_WEIGHT = 23;
  // As weft.core.text counts: a link weighs 23 characters, @user@host weighs @user.
  var LINK = /https?:\/\/[^\s<>"]*[^\s<>".,!?:;')\]]/gi;
  var REMOTE_MENTION = /(^|[^\w])(@\w(?:[\w.-]*\w)?)@[\w-]+(?:\.[\w-]+)+/g;

  function weigh(text) {
    text = text.replace(/\r\n/g, "\n").replace(REMOTE_MENTION, "$1$2");
    var links = 0;
    text = text.replace(LINK, function () { links += 1; return ""; });
    return Array.from(text).length + links * URL_WEIGHT;
  }

  function attach(area) {
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    var hint = document.getElementById(area.getAttribute("aria-describedby"));
    if (!limit || !hint) { return; }
    var over = false;
    function update() {
      var left = limit - weigh(area.value);
      hint.textContent = left >= 0 ? left + " of " + limit + " characters left"
                                   : -left + " characters too many (at most " + limit + ")";
      hint.classList.toggle("over", left < 0);
      // Announced only when crossing the limit, not at every key.
      if ((left < 0) !== over) {
        over = left < 0;
        hint.setAttribute("aria-live", "polite");
      } else {
        hint.removeAttribute("aria-live");
      }
    }
    hint.removeAttribute("aria-live");
    area.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("textarea[data-limit]").forEach(attach);
})();
