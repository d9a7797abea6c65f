/* 荣军助手 web chat: POST /chat/api/message for Rasa replies, /chat/ws for agent replies & pushes. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var TX = JSON.parse(document.getElementById("chat-texts").textContent);
  var log = document.getElementById("chat-log");
  var main = document.querySelector(".chat-main");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var errorBox = document.getElementById("chat-error");

  function scroll() { main.scrollTop = main.scrollHeight; }
  function bubble(kind, text, buttons, image) {
    var node = document.createElement("div");
    node.className = "bubble " + kind;
    if (kind === "agent") {
      var who = document.createElement("span");
      who.className = "who"; who.textContent = TX.agent;
      node.appendChild(who);
    }
    node.appendChild(document.createTextNode(text || ""));
    if (image) { var img = document.createElement("img"); img.src = image; img.alt = ""; node.appendChild(img); }
    if (buttons && buttons.length) {
      var box = document.createElement("div");
      box.className = "choices";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "btn"; btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload || b.title, b.title); });
        box.appendChild(btn);
      });
      node.appendChild(box);
    }
    log.appendChild(node);
    scroll();
  }
  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }

  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    bubble("me", shown || text);
    showError("");
    fetch("/chat/api/message", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      // one id per message, so Rasa handles a resent message once
      body: JSON.stringify({ text: text, id: Date.now().toString(36) + Math.random().toString(36).slice(2, 10) })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { showError(body.message || TX.failed); return; }
        (body.messages || []).forEach(function (m) { bubble("bot", m.text, m.buttons, m.image); });
      });
    }).catch(function () { showError(TX.failed); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; send(t); input.focus(); });

  var ws;
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws");
    ws.onopen = function () { document.body.setAttribute("data-ws", "open"); showError(""); };
    ws.onmessage = function (event) {
      if (event.data === "pong") return;
      var data = JSON.parse(event.data);
      if (data.type === "message") bubble(data.from === "agent" ? "agent" : "bot", data.text, data.buttons);
    };
    ws.onclose = function () { document.body.setAttribute("data-ws", "closed"); setTimeout(connect, 3000); };
  }
  setInterval(function () { if (ws && ws.readyState === 1) ws.send("ping"); }, 25000);
  connect();
})();
