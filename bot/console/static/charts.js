/* 荣军助手 console charts: hover / focus tooltips for the server-rendered SVG charts (no library). */
(function () {
  "use strict";
  var tip = null;
  function show(target, x, y) {
    var text = target.getAttribute("data-tip");
    if (!text) return;
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "chart-tip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.style.left = x + 12 + "px";
    tip.style.top = y - 34 + "px";
    tip.hidden = false;
    target.classList.add("hl");
  }
  function hide(target) {
    if (tip) tip.hidden = true;
    if (target && target.classList) target.classList.remove("hl");
  }
  document.querySelectorAll(".chart [data-tip]").forEach(function (node) {
    var own = node.querySelector("title");
    if (own) own.remove(); /* our tooltip replaces the slow native one */
    node.setAttribute("tabindex", "0");
    node.addEventListener("mousemove", function (e) { show(node, e.clientX, e.clientY); });
    node.addEventListener("mouseleave", function () { hide(node); });
    node.addEventListener("focus", function () {
      var r = node.getBoundingClientRect();
      show(node, r.left + r.width / 2, r.top);
    });
    node.addEventListener("blur", function () { hide(node); });
  });
})();
