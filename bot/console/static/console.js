/* 荣军助手 console: websocket to /ws, queue badge + crisis alert (WebAudio), live & conversation pages. */
(function () {
  "use strict";
  var RJ = (window.RJ = {});
  var meta = document.querySelector('meta[name="csrf-token"]');
  RJ.csrf = meta ? meta.content : "";
  var textsEl = document.getElementById("rj-texts");
  var TX = (RJ.texts = textsEl ? JSON.parse(textsEl.textContent) : {});
  var page = document.body.getAttribute("data-page");

  RJ.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };
  var el = RJ.el;
  // Agents see topics in Chinese, never intent codes.
  function intentLabel(intent) { return (TX.intent_labels && TX.intent_labels[intent]) || TX.other_topic || ""; }

  RJ.post = function (url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": RJ.csrf, "X-Requested-With": "fetch" },
      body: JSON.stringify(data || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  };
  RJ.get = function (url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; }); });
  };

  /* ---------------------------------------------------------------- sound */
  var audio = null;
  function audioCtx() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) audio = new (window.AudioContext || window.webkitAudioContext)();
    return audio;
  }
  document.addEventListener("click", function () { var c = audioCtx(); if (c && c.state === "suspended") c.resume(); }, { once: true });
  RJ.beep = function () {
    var ctx = audioCtx();
    if (!ctx) return;
    [0, 0.3, 0.6].forEach(function (offset) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "square"; osc.frequency.value = offset === 0.3 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.25);
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + offset); osc.stop(ctx.currentTime + offset + 0.27);
    });
  };

  /* ---------------------------------------------------------------- queue badge & crisis alert */
  var ackKey = "rj-crisis-ack";
  function acked() { try { return JSON.parse(sessionStorage.getItem(ackKey) || "[]"); } catch (e) { return []; } }
  RJ.queue = [];
  function updateQueue(items, alertIds) {
    RJ.queue = items || [];
    var waiting = RJ.queue.filter(function (i) { return !i.taken; });
    var crisis = waiting.filter(function (i) { return i.reason === "crisis"; });
    var badge = document.getElementById("queue-badge");
    if (badge) {
      badge.textContent = String(waiting.length);
      badge.hidden = waiting.length === 0;
      badge.className = "badge" + (crisis.length ? " crisis" : "");
    }
    var box = document.getElementById("crisis-alert");
    if (!box) return;
    var seen = acked();
    var fresh = crisis.filter(function (i) { return seen.indexOf(i.id) < 0; });
    if (fresh.length) {
      document.getElementById("crisis-text").textContent = fresh.length + " " + TX.crisis_many + "：" + fresh.map(function (i) { return i.text; }).join(" / ");
      box.hidden = false;
      box.setAttribute("data-ids", JSON.stringify(crisis.map(function (i) { return i.id; })));
      if ((alertIds && alertIds.length) || !box.getAttribute("data-beeped")) { RJ.beep(); box.setAttribute("data-beeped", "1"); }
    } else {
      box.hidden = true;
    }
  }
  var ack = document.getElementById("crisis-ack");
  if (ack) ack.addEventListener("click", function () {
    var box = document.getElementById("crisis-alert");
    var ids = JSON.parse(box.getAttribute("data-ids") || "[]");
    sessionStorage.setItem(ackKey, JSON.stringify(acked().concat(ids)));
    box.hidden = true;
  });

  /* ---------------------------------------------------------------- websocket */
  var listeners = [];
  RJ.on = function (fn) { listeners.push(fn); };
  RJ.connected = false;
  function connect() {
    if (page === "login" || !document.getElementById("ws-state")) return;
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    var state = document.getElementById("ws-state");
    ws.onopen = function () { RJ.connected = true; state.className = "ws-state on"; };
    ws.onclose = function () { RJ.connected = false; state.className = "ws-state off"; setTimeout(connect, 2000); };
    ws.onmessage = function (event) {
      if (event.data === "pong") return;
      var data = JSON.parse(event.data);
      if (data.type === "hello") updateQueue(data.queue, []);
      if (data.type === "queue") updateQueue(data.items, data.alert);
      listeners.forEach(function (fn) { fn(data); });
    };
    RJ.ws = ws;
  }
  setInterval(function () { if (RJ.ws && RJ.ws.readyState === 1) RJ.ws.send("ping"); }, 25000);
  connect();

  /* ---------------------------------------------------------------- message rendering */
  RJ.renderMessage = function (m) {
    var who = m.kind === "user" ? TX.user : m.kind === "bot" ? TX.bot : m.kind === "agent" ? TX.agent + " " + (m.agent || "") : "";
    var metaEl = el("span", { class: "meta" }, [who + " · " + (m.time || "")]);
    if (m.kind === "user" && m.intent) {
      var conf = m.confidence == null ? "" : " " + Math.round(m.confidence * 100) + "%";
      metaEl.appendChild(el("span", { class: "chip intent" + (m.confidence != null && m.confidence < 0.5 ? " low" : ""), text: intentLabel(m.intent) + conf, title: TX.confidence }));
    }
    var node = el("div", { class: "msg " + m.kind, "data-key": m.kind + "|" + m.ts }, [m.kind === "system" ? null : metaEl, m.text || ""]);
    if (m.buttons && m.buttons.length) {
      node.appendChild(el("div", { class: "buttons" }, m.buttons.map(function (b) { return el("span", { class: "chip", text: b.title, title: b.payload }); })));
    }
    return node;
  };
  RJ.appendMessage = function (box, m) {
    var key = m.kind + "|" + m.ts;
    if (box.querySelector('[data-key="' + CSS.escape(key) + '"]')) return;
    var stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.appendChild(RJ.renderMessage(m));
    if (stick) box.scrollTop = box.scrollHeight;
  };

  /* ---------------------------------------------------------------- live page */
  function livePage() {
    var list = document.getElementById("conv-list");
    var box = document.getElementById("messages");
    var title = document.getElementById("view-title");
    var open = document.getElementById("view-open");
    var selected = null;

    function item(c) {
      var li = el("li", { class: "conv-item" + (c.sender_id === selected ? " selected" : ""), "data-sid": c.sender_id }, [
        el("div", { class: "row" }, [el("strong", { text: c.sender_id }), el("span", { class: "muted", text: c.time })]),
        el("div", { class: "row" }, [
          el("span", { class: "chip", text: c.channel_label }),
          c.paused ? el("span", { class: "chip warn", text: TX.paused }) : null,
          c.latest_intent ? el("span", { class: "chip intent", text: intentLabel(c.latest_intent) }) : null
        ]),
        el("div", { class: "preview", text: c.preview })
      ]);
      return li;
    }
    function upsert(c, fresh) {
      var old = list.querySelector('[data-sid="' + CSS.escape(c.sender_id) + '"]');
      var node = item(c);
      if (fresh) node.classList.add("fresh");
      var empty = list.querySelector(".empty");
      if (empty) empty.remove();
      if (old) old.remove();
      list.insertBefore(node, list.firstChild);
    }
    function select(sid) {
      selected = sid;
      list.querySelectorAll(".conv-item").forEach(function (n) { n.classList.toggle("selected", n.getAttribute("data-sid") === sid); });
      title.textContent = sid;
      open.href = "/conversations/" + encodeURIComponent(sid);
      open.hidden = false;
      box.textContent = "";
      RJ.get("/api/conversations/" + encodeURIComponent(sid)).then(function (r) {
        if (!r.ok || selected !== sid) return;
        r.body.messages.forEach(function (m) { RJ.appendMessage(box, m); });
        box.scrollTop = box.scrollHeight;
      });
    }
    list.addEventListener("click", function (e) {
      var li = e.target.closest(".conv-item");
      if (li) select(li.getAttribute("data-sid"));
    });
    RJ.on(function (data) {
      if (data.type === "hello") {
        list.textContent = "";
        if (!data.conversations.length) list.appendChild(el("li", { class: "muted empty", text: TX.no_conversations }));
        data.conversations.slice().reverse().forEach(function (c) { upsert(c, false); });
      }
      if (data.conversations === undefined && data.conversation) {
        upsert(data.conversation, data.type === "message");
        if (data.type === "message" && data.message.sender_id === selected) RJ.appendMessage(box, data.message);
      }
    });
  }

  /* ---------------------------------------------------------------- queue page */
  function queuePage() {
    var body = document.getElementById("queue-body");
    RJ.on(function (data) {
      if (data.type !== "queue") return;
      body.textContent = "";
      if (!data.items.length) body.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "muted empty", text: TX.empty_queue })]));
      data.items.forEach(function (i) {
        var action;
        if (!i.taken) {
          action = el("form", { method: "post", action: "/handoffs/" + i.id + "/take", class: "inline" }, [
            el("input", { type: "hidden", name: "_csrf", value: RJ.csrf }),
            el("button", { type: "submit", class: "btn " + (i.reason === "crisis" ? "danger" : "primary"), text: TX.take })
          ]);
        } else {
          action = el("a", { class: "btn", href: "/conversations/" + encodeURIComponent(i.sender_id), text: TX.open });
        }
        body.appendChild(el("tr", { class: "reason-" + i.reason + (i.taken ? " taken" : ""), "data-id": String(i.id) }, [
          el("td", {}, [el("span", { class: "chip reason " + i.reason, text: i.reason_label })]),
          el("td", {}, [el("a", { href: "/conversations/" + encodeURIComponent(i.sender_id), text: i.sender_id })]),
          el("td", { text: i.channel_label }),
          el("td", { class: "text", text: i.text }),
          el("td", {}, [i.created, i.waited_minutes != null ? el("br") : null,
            i.waited_minutes != null ? el("small", { class: "muted", text: TX.waiting + " " + i.waited_minutes + " " + TX.minutes }) : null]),
          el("td", {}, [i.status_label, i.agent ? el("br") : null, i.agent ? el("small", { text: i.agent }) : null]),
          el("td", {}, [action])
        ]));
      });
    });
  }

  /* ---------------------------------------------------------------- conversation page */
  function conversationPage() {
    var data = JSON.parse(document.getElementById("conv-data").textContent);
    var sid = data.conv.sender_id;
    var box = document.getElementById("messages");
    (data.conv.messages || []).forEach(function (m) { RJ.appendMessage(box, m); });
    box.scrollTop = box.scrollHeight;
    var pendingSuggestion = null;
    var form = document.getElementById("reply-form");
    var input = document.getElementById("reply-text");

    var assistTimer = null;
    RJ.on(function (msg) {
      if (msg.type === "message" && msg.message.sender_id === sid) {
        RJ.appendMessage(box, msg.message);
        if (msg.message.kind === "user") {  // new question: refresh the suggestions (debounced)
          clearTimeout(assistTimer);
          assistTimer = setTimeout(loadAssist, 800);
        }
      }
      if (msg.type === "queue") {  // the handoff state of this conversation changed elsewhere
        var mineNow = msg.items.filter(function (i) { return i.sender_id === sid; })[0];
        var before = data.handoff;
        var changed = before ? (!mineNow || mineNow.id !== before.id || mineNow.taken !== before.taken) : !!mineNow;
        if (changed && !(input && input.value.trim())) location.reload();
      }
    });

    var status = document.getElementById("reply-status");
    function send(text, suggestionId) {
      if (!text.trim()) return;
      status.textContent = "…";
      return RJ.post("/conversations/" + encodeURIComponent(sid) + "/reply", { text: text, suggestion_id: suggestionId || "" }).then(function (r) {
        if (r.ok) {
          status.textContent = r.body.status_label || TX.sent;
          if (!RJ.connected && r.body.message) RJ.appendMessage(box, r.body.message);
          input.value = ""; pendingSuggestion = null;
        } else {
          status.textContent = TX.error + ((r.body && r.body.message) || r.status);
        }
      });
    }
    var canned = document.getElementById("canned-select");
    if (canned) {  // 常用语: one click puts the text in the reply box, still editable
      RJ.get("/api/canned").then(function (r) {
        if (!r.ok) return;
        r.body.items.forEach(function (c) { canned.appendChild(el("option", { value: c.text, text: c.title })); });
      });
      canned.addEventListener("change", function () {
        if (!canned.value) return;
        input.value = input.value ? input.value + "\n" + canned.value : canned.value;
        canned.value = ""; input.focus();
      });
    }
    if (form) {
      form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value, pendingSuggestion); });
      input.addEventListener("keydown", function (e) { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(input.value, pendingSuggestion); } });
    }

    function renderAssist(a) {
      var sug = document.getElementById("suggestions");
      sug.textContent = "";
      if (!a.rasa_ok) sug.appendChild(el("p", { class: "muted", text: TX.rasa_down }));
      if (!a.suggestions.length) sug.appendChild(el("p", { class: "muted", text: TX.no_suggestions }));
      a.suggestions.forEach(function (s) {
        var label = (s.source_label || "") + " · " + s.label;
        var actions = el("div", { class: "actions" });
        if (form) {
          actions.appendChild(el("button", { type: "button", class: "btn small primary", text: TX.send, "data-suggestion": s.id, onclick: function () { send(s.text, s.id); } }));
          actions.appendChild(el("button", { type: "button", class: "btn small insert", text: TX.edit, "data-insert": s.id, onclick: function () { input.value = s.text; pendingSuggestion = s.id; input.focus(); } }));
        }
        sug.appendChild(el("div", { class: "suggestion", "data-source": s.source }, [el("div", { class: "muted", text: label }), el("div", { class: "text", text: s.text }), actions]));
      });
      var guide = document.getElementById("crisis-script");
      guide.textContent = "";
      guide.hidden = !a.crisis_script;
      if (a.crisis_script) {
        guide.appendChild(el("h3", { text: TX.crisis_guide }));
        var ol = el("ol");
        a.crisis_script.guidance.forEach(function (g) { ol.appendChild(el("li", { text: g })); });
        guide.appendChild(ol);
        guide.appendChild(el("p", { class: "muted", text: a.crisis_script.footer }));
      }
      var sum = a.summary || {}, box2 = document.getElementById("takeover-summary");
      box2.textContent = "";
      var dl = el("dl", { class: "profile" });
      if (sum.reason_label) { dl.appendChild(el("dt", { text: TX.why })); dl.appendChild(el("dd", { text: sum.reason_label + (sum.trigger ? "（" + sum.trigger + "）" : "") })); }
      if (sum.severity_label) { dl.appendChild(el("dt", { text: TX.severity })); dl.appendChild(el("dd", { class: "sev-" + sum.severity, text: sum.severity_label })); }
      dl.appendChild(el("dt", { text: TX.question }));
      dl.appendChild(el("dd", { class: "question", text: sum.question || TX.no_question }));
      (sum.facts || []).forEach(function (f) { dl.appendChild(el("dt", { text: f.label })); dl.appendChild(el("dd", { text: f.value })); });
      (sum.appointments || []).forEach(function (b) { dl.appendChild(el("dt", { text: TX.appointment })); dl.appendChild(el("dd", { text: b.start + " " + b.centre + "（" + b.code + "）" })); });
      (sum.wishes || []).forEach(function (w) { dl.appendChild(el("dt", { text: TX.wish })); dl.appendChild(el("dd", { text: w.code + " " + w.category + " · " + w.status_label })); });
      box2.appendChild(dl);
      var profile = document.getElementById("profile");
      profile.textContent = "";
      Object.keys(a.profile).forEach(function (key) {
        profile.appendChild(el("dt", { text: (TX.profile_labels && TX.profile_labels[key]) || key }));
        profile.appendChild(el("dd", { text: a.profile[key] }));
      });
      var pii = document.getElementById("pii");
      pii.textContent = "";
      Object.keys(a.pii).forEach(function (field) {
        var value = el("span", { class: "value", text: a.pii[field] });
        var btn = el("button", { type: "button", class: "btn small", text: TX.reveal, "data-field": field, onclick: function () {
          RJ.post("/pii/reveal", { sender_id: sid, field: field }).then(function (r) {
            if (!r.ok) {  // refused (not your handoff / too many reveals): say why for a moment
              value.textContent = (r.body && r.body.message) || a.pii[field];
              setTimeout(function () { value.textContent = a.pii[field]; }, 5000);
              return;
            }
            value.textContent = r.body.value; btn.disabled = true;
            setTimeout(function () { value.textContent = a.pii[field]; btn.disabled = false; }, 60000);
          });
        } });
        pii.appendChild(el("div", { class: "item" }, [el("span", { class: "muted", text: (TX.pii_labels && TX.pii_labels[field]) || field }), value, btn]));
      });
      var ent = document.getElementById("entitlements");
      ent.textContent = "";
      if (!a.entitlements.length) ent.appendChild(el("li", { class: "muted", text: TX.no_entitlements }));
      a.entitlements.forEach(function (p) {
        ent.appendChild(el("li", { class: p.missing.length ? "maybe" : "yes" }, [el("strong", { text: p.name }), " ",
          el("span", { class: "chip", text: p.kind }), " ",
          el("span", { class: "muted", text: p.missing.length ? TX.maybe + p.missing.join("、") : TX.qualifies })]));
      });
      (a.appointments || []).forEach(function (b) {
        profile.appendChild(el("dt", { text: TX.appointment }));
        profile.appendChild(el("dd", { text: b.start + " " + b.centre + "（" + b.code + "，" + b.name + "）" }));
      });
    }
    function loadAssist() {
      RJ.get("/api/conversations/" + encodeURIComponent(sid) + "/assist").then(function (r) { if (r.ok) renderAssist(r.body); });
    }
    document.getElementById("assist-refresh").addEventListener("click", loadAssist);
    loadAssist();
  }

  if (page === "live") livePage();
  if (page === "queue") queuePage();
  if (page === "conversation") conversationPage();
})();
