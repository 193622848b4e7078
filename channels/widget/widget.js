// Agent widget of the SOP assistant. No framework, no CDN.
// Every text from the agent or the bot is inserted with textContent, never as HTML.
(function () {
  "use strict";

  var BASE = "/webhooks/widget";
  var STORAGE_KEY = "asistenSop.sender";
  var SENDER_RE = /^w-[A-Za-z0-9-]{8,64}$/;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var newConversation = document.getElementById("new-conversation");
  var busy = false;

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function storedSender() {
    try {
      var value = window.localStorage.getItem(STORAGE_KEY);
      return value && SENDER_RE.test(value) ? value : null;
    } catch (e) {
      return null;
    }
  }

  function storeSender(value) {
    try {
      window.localStorage.setItem(STORAGE_KEY, value);
    } catch (e) {
      /* private mode: the conversation lasts until the page is closed */
    }
  }

  var sender = storedSender();
  if (!sender) {
    sender = "w-" + randomId();
    storeSender(sender);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function addRow(kind) {
    var row = el("div", "msg " + kind);
    log.appendChild(row);
    return row;
  }

  function addUser(text) {
    addRow("user").appendChild(el("p", "bubble", text));
    scrollToEnd();
  }

  function addSystem(text) {
    addRow("system").appendChild(el("p", "bubble", text));
    scrollToEnd();
  }

  function disableQuickReplies() {
    var buttons = log.querySelectorAll(".quick button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  }

  function renderQuickReplies(buttons, question) {
    var group = el("div", "quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Pilihan jawaban");
    buttons.forEach(function (button) {
      if (!button || button.title === undefined) return;
      var title = String(button.title);
      var payload = button.payload !== undefined ? String(button.payload) : title;
      var node = el("button", "", title);
      node.type = "button";
      node.addEventListener("click", function () {
        if (busy || node.disabled) return;
        send(payload, title, question);
        node.classList.add("chosen");
      });
      group.appendChild(node);
    });
    group.addEventListener("keydown", function (event) {
      var items = Array.prototype.filter.call(group.querySelectorAll("button"), function (b) {
        return !b.disabled;
      });
      var index = items.indexOf(document.activeElement);
      if (event.key === "Escape") {
        event.preventDefault();
        input.focus();
      } else if (index >= 0 && (event.key === "ArrowRight" || event.key === "ArrowDown")) {
        event.preventDefault();
        items[(index + 1) % items.length].focus();
      } else if (index >= 0 && (event.key === "ArrowLeft" || event.key === "ArrowUp")) {
        event.preventDefault();
        items[(index - 1 + items.length) % items.length].focus();
      }
    });
    return group;
  }

  function copyText(text) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.top = "0";
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
      return ok;
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () {
          return true;
        },
        function () {
          return fallback();
        }
      );
    }
    return Promise.resolve(fallback());
  }

  function renderTicket(result, card) {
    var ticketText = typeof result.ticket_text === "string" ? result.ticket_text : "";
    if (!result.ticket && !ticketText) {
      card.appendChild(el("p", "meta", "Tiket: tidak perlu menurut SOP."));
      return;
    }
    var section = el("section", "ticket");
    section.appendChild(el("h3", "", "Template tiket"));
    var pre = el("pre", "ticket-text", ticketText);
    pre.tabIndex = 0;
    pre.setAttribute("aria-label", "Teks tiket");
    section.appendChild(pre);
    var actions = el("div", "ticket-actions");
    var copy = el("button", "copy", "Salin tiket");
    copy.type = "button";
    var status = el("span", "copy-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    copy.addEventListener("click", function () {
      copyText(ticketText).then(function (ok) {
        copy.focus();
        status.classList.toggle("error", !ok);
        status.textContent = ok ? "Tersalin" : "Gagal menyalin; pilih teks tiket lalu Ctrl+C";
      });
    });
    actions.appendChild(copy);
    actions.appendChild(status);
    section.appendChild(actions);
    var missing = result.ticket && Array.isArray(result.ticket.missing) ? result.ticket.missing : [];
    if (missing.length) {
      section.appendChild(el("p", "meta", "Lengkapi manual: " + missing.join(", ") + "."));
    }
    card.appendChild(section);
  }

  function renderCard(result, fullText) {
    var card = el("article", "card");
    var title = "Hasil SOP: " + (result.title || "");
    card.setAttribute("aria-label", title);
    card.appendChild(el("h2", "", title));
    var warnings = Array.isArray(result.warnings) ? result.warnings : [];
    if (warnings.length) {
      var list = el("ul", "warnings");
      warnings.forEach(function (warning) {
        var item = el("li", "", "⚠️ " + warning);
        item.setAttribute("role", "note");
        list.appendChild(item);
      });
      card.appendChild(list);
    }
    var steps = Array.isArray(result.steps) ? result.steps : [];
    if (steps.length) {
      card.appendChild(el("h3", "", "Langkah"));
      var checklist = el("ul", "checklist");
      steps.forEach(function (step) {
        var item = el("li");
        var label = el("label");
        var box = el("input");
        box.type = "checkbox";
        label.appendChild(box);
        label.appendChild(el("span", "", step));
        item.appendChild(label);
        checklist.appendChild(item);
      });
      card.appendChild(checklist);
    }
    if (result.escalation) {
      card.appendChild(el("p", "meta", "Eskalasi: " + result.escalation));
    }
    renderTicket(result, card);
    if (result.source) {
      card.appendChild(el("p", "meta", "Sumber: " + result.source));
    }
    // feedback row, interaction note, "Tanya TL" (feedback.js)
    if (window.AsistenFeedback) window.AsistenFeedback.decorate(card, result);
    if (fullText) {
      var details = el("details", "fulltext");
      details.appendChild(el("summary", "", "Teks lengkap"));
      details.appendChild(el("pre", "", fullText));
      card.appendChild(details);
    }
    return card;
  }

  function addBot(message) {
    if (!message || typeof message !== "object") return;
    var row = addRow("bot");
    var custom = message.custom;
    if (custom && typeof custom === "object" && custom.type === "sop_result") {
      row.appendChild(renderCard(custom, message.text));
    } else if (message.text) {
      row.appendChild(el("p", "bubble", message.text));
    }
    var link = message.image || message.attachment;
    if (link) row.appendChild(el("p", "bubble", String(link)));
    if (Array.isArray(message.buttons) && message.buttons.length) {
      row.appendChild(renderQuickReplies(message.buttons, message.question));
    }
    if (!row.childNodes.length) log.removeChild(row);
    scrollToEnd();
  }

  function welcome() {
    addSystem(
      'Halo! Ketik kasus pelanggan, misalnya "pulsa 50rb via gopay di mytelkomsel belum masuk".'
    );
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
    setStatus(value ? "Menunggu jawaban asisten…" : "");
  }

  function send(message, display, question) {
    if (busy) return;
    disableQuickReplies();
    addUser(display || message);
    setBusy(true);
    var body = { sender: sender, message: message };
    if (display) body.metadata = { display: display };
    // the token of the question a button answers: a press of an old question is refused
    if (display && typeof question === "string") body.metadata.question = question;
    fetch(BASE + "/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (!response.ok) {
              addSystem((data && data.error) || "Gagal mengirim (HTTP " + response.status + ").");
            } else if (!Array.isArray(data) || !data.length) {
              addSystem("Asisten tidak menjawab. Coba lagi sebentar lagi atau hubungi TL.");
            } else {
              data.forEach(addBot);
            }
          });
      })
      .catch(function () {
        addSystem("Tidak bisa menghubungi asisten. Periksa koneksi lalu coba lagi.");
      })
      .then(function () {
        setBusy(false);
        input.focus();
      });
  }

  function loadHistory() {
    setStatus("Memuat percakapan…");
    return fetch(BASE + "/history?sender=" + encodeURIComponent(sender))
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        var messages = data && Array.isArray(data.messages) ? data.messages : [];
        if (!messages.length) {
          welcome();
          return;
        }
        messages.forEach(function (message) {
          if (message.role === "user") addUser(message.text);
          else addBot(message);
        });
        // only the buttons of the latest bot answer stay usable
        var groups = log.querySelectorAll(".quick");
        var last = messages[messages.length - 1];
        for (var i = 0; i < groups.length; i++) {
          if (i < groups.length - 1 || last.role === "user") {
            var buttons = groups[i].querySelectorAll("button");
            for (var j = 0; j < buttons.length; j++) buttons[j].disabled = true;
          }
        }
      })
      .catch(function () {
        welcome();
      })
      .then(function () {
        setStatus("");
        log.setAttribute("data-ready", "true");
        scrollToEnd();
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    send(text);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  newConversation.addEventListener("click", function () {
    sender = "w-" + randomId();
    storeSender(sender);
    while (log.firstChild) log.removeChild(log.firstChild);
    welcome();
    input.focus();
  });

  loadHistory().then(function () {
    input.focus();
  });
})();
