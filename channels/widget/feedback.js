// Feedback, interaction note, "Tanya TL" and history of the agent widget.
// widget.js calls window.AsistenFeedback.decorate(card, result) for every SOP card.
// Every text is inserted with textContent, never as HTML.
(function () {
  "use strict";

  var BASE = "/webhooks/feedback";
  var SENDER_KEY = "asistenSop.sender";
  var SENDERS_KEY = "asistenSop.senders";
  var SENDER_RE = /^w-[A-Za-z0-9-]{8,64}$/;
  var MAX_SENDERS = 20;
  var POLL_MS = 5000;
  var POLL_LIMIT = 360;
  var config = { ask_tl: false };
  var configLoaded = fetch(BASE + "/config")
    .then(function (r) {
      return r.ok ? r.json() : config;
    })
    .then(function (data) {
      config = data || config;
    })
    .catch(function () {});

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function read(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function write(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (e) {
      /* private mode */
    }
  }

  function sender() {
    var value = read(SENDER_KEY);
    return value && SENDER_RE.test(value) ? value : null;
  }

  function knownSenders() {
    var list = [];
    try {
      list = JSON.parse(read(SENDERS_KEY) || "[]");
    } catch (e) {
      list = [];
    }
    return Array.isArray(list) ? list.filter(function (s) { return SENDER_RE.test(s); }) : [];
  }

  function remember(value) {
    if (!value) return;
    var list = knownSenders().filter(function (s) { return s !== value; });
    list.unshift(value);
    write(SENDERS_KEY, JSON.stringify(list.slice(0, MAX_SENDERS)));
  }

  function post(body) {
    return fetch(BASE + "/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { ok: response.ok, message: (data && (data.message || data.error)) || "" };
        });
    });
  }

  function give(result, kind, status, reason) {
    var body = { sender: sender(), answer_id: result.answer_id, kind: kind };
    if (reason) body.reason = reason;
    return post(body)
      .then(function (answer) {
        if (status) {
          status.textContent = answer.message;
          status.classList.toggle("error", !answer.ok);
        }
        return answer;
      })
      .catch(function () {
        if (status) status.textContent = "Masukan gagal terkirim. Coba lagi.";
        return { ok: false };
      });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return false; }
      );
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return Promise.resolve(ok);
  }

  function pollReplies(result, box) {
    var seen = 0;
    var rounds = 0;
    function tick() {
      rounds += 1;
      fetch(BASE + "/tl-replies?sender=" + encodeURIComponent(sender()) +
            "&answer_id=" + encodeURIComponent(result.answer_id))
        .then(function (r) { return r.ok ? r.json() : { replies: [] }; })
        .then(function (data) {
          var replies = (data && data.replies) || [];
          for (; seen < replies.length; seen++) {
            box.appendChild(el("p", "tl-reply", "💬 Jawaban TL: " + replies[seen].text));
          }
          if (!seen && rounds < POLL_LIMIT) window.setTimeout(tick, POLL_MS);
        })
        .catch(function () {
          if (rounds < POLL_LIMIT) window.setTimeout(tick, POLL_MS);
        });
    }
    window.setTimeout(tick, POLL_MS);
  }

  function noteSection(result, card) {
    if (typeof result.interaction_note !== "string" || !result.interaction_note) return;
    var section = el("section", "note");
    section.appendChild(el("h3", "", "Catatan interaksi (IRMA MyCX)"));
    var pre = el("pre", "note-text", result.interaction_note);
    pre.tabIndex = 0;
    section.appendChild(pre);
    var button = el("button", "copy-note", "Salin catatan");
    button.type = "button";
    var status = el("span", "copy-status");
    status.setAttribute("role", "status");
    button.addEventListener("click", function () {
      copy(result.interaction_note).then(function (ok) {
        status.textContent = ok ? "Tersalin" : "Gagal menyalin; pilih teks lalu Ctrl+C";
        give(result, "copy_note", null);
      });
    });
    section.appendChild(button);
    section.appendChild(status);
    card.appendChild(section);
  }

  function feedbackRow(result, card) {
    var row = el("div", "feedback");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Masukan untuk jawaban ini");
    var status = el("p", "feedback-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var reason = el("form", "feedback-reason");
    reason.hidden = true;
    var input = el("input");
    input.type = "text";
    input.maxLength = 500;
    input.placeholder = "Alasan (opsional)";
    input.setAttribute("aria-label", "Alasan jawaban salah");
    var send = el("button", "", "Kirim alasan");
    send.type = "submit";
    reason.appendChild(input);
    reason.appendChild(send);
    reason.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value.trim()) return;
      give(result, "reason", status, input.value.trim()).then(function (answer) {
        if (answer.ok) reason.hidden = true;
      });
    });
    var choices = [
      ["up", "👍 Membantu", "Jawaban membantu"],
      ["down", "👎 Salah", "Jawaban salah"],
      ["wrong_case", "Salah kasus", "Kasusnya salah dikenali"],
    ];
    choices.forEach(function (choice) {
      var button = el("button", "fb fb-" + choice[0], choice[1]);
      button.type = "button";
      button.title = choice[2];
      button.setAttribute("aria-label", choice[2]);
      button.setAttribute("data-kind", choice[0]);
      button.addEventListener("click", function () {
        give(result, choice[0], status).then(function (answer) {
          if (!answer.ok) return;
          row.querySelectorAll("button.fb").forEach(function (b) {
            b.setAttribute("aria-pressed", b === button ? "true" : "false");
          });
          reason.hidden = choice[0] !== "down";
          if (!reason.hidden) input.focus();
        });
      });
      row.appendChild(button);
    });
    var uncertain = result.uncertain || /\.tidak_tercakup$/.test(String(result.case_id || ""));
    var replies = el("div", "tl-replies");
    configLoaded.then(function () {
      if (!config.ask_tl || !uncertain) return;
      var ask = el("button", "fb ask-tl", "Tanya TL");
      ask.type = "button";
      ask.addEventListener("click", function () {
        ask.disabled = true;
        give(result, "ask_tl", status).then(function (answer) {
          if (answer.ok) pollReplies(result, replies);
          else ask.disabled = false;
        });
      });
      row.appendChild(ask);
    });
    card.appendChild(row);
    card.appendChild(reason);
    card.appendChild(status);
    card.appendChild(replies);
  }

  function decorate(card, result) {
    if (!result || typeof result.answer_id !== "string") return;
    noteSection(result, card);
    var ticketCopy = card.querySelector("button.copy");
    if (ticketCopy) {
      ticketCopy.addEventListener("click", function () {
        give(result, "copy_ticket", null);
      });
    }
    feedbackRow(result, card);
  }

  // -- history of this browser's conversations ------------------------------------------

  function when(ts) {
    var d = new Date(Number(ts) * 1000);
    return isNaN(d.getTime()) ? "-" : d.toLocaleString("id-ID", { dateStyle: "short", timeStyle: "short" });
  }

  function showHistory(panel) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    // behind the team proxy the server adds the agent's own conversations from other browsers
    var list = knownSenders();
    var query = list.map(function (s) { return "sender=" + encodeURIComponent(s); }).join("&");
    fetch(BASE + "/cases?" + query)
      .then(function (r) { return r.ok ? r.json() : { conversations: [] }; })
      .then(function (data) {
        var items = (data && data.conversations) || [];
        if (!items.length) {
          panel.appendChild(el("p", "system", "Belum ada kasus yang selesai."));
          return;
        }
        var ul = el("ul", "history-list");
        items.forEach(function (item) {
          var li = el("li");
          var open = el("button", "history-item");
          open.type = "button";
          open.appendChild(el("strong", "", item.title || item.case_id || "-"));
          open.appendChild(el("span", "", " · " + when(item.time) + (item.msisdn ? " · " + item.msisdn : "")));
          open.appendChild(el("span", "history-answer", item.answer || ""));
          open.addEventListener("click", function () {
            write(SENDER_KEY, item.sender);
            window.location.reload();
          });
          li.appendChild(open);
          ul.appendChild(li);
        });
        panel.appendChild(ul);
      })
      .catch(function () {
        panel.appendChild(el("p", "system", "Riwayat tidak bisa dibaca saat ini."));
      });
  }

  function installHistory() {
    var bar = document.querySelector(".bar");
    var log = document.getElementById("log");
    if (!bar || !log) return;
    var panel = el("section", "history");
    panel.id = "history";
    panel.hidden = true;
    panel.setAttribute("aria-label", "Riwayat percakapan");
    log.parentNode.insertBefore(panel, log);
    var button = el("button", "secondary", "Riwayat");
    button.type = "button";
    button.id = "history-button";
    button.setAttribute("aria-controls", "history");
    button.addEventListener("click", function () {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) showHistory(panel);
    });
    bar.appendChild(button);
    var fresh = document.getElementById("new-conversation");
    if (fresh) fresh.addEventListener("click", function () { remember(sender()); });
  }

  remember(sender());
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", installHistory);
  } else {
    installHistory();
  }
  window.AsistenFeedback = { decorate: decorate };
})();
