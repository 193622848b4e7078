// Ops page for TLs: figures from /ops/data.json, charts drawn here as SVG (no CDN).
// Every value is inserted with textContent, never as HTML.
(function () {
  "use strict";

  var TOKEN_KEY = "asistenSop.opsToken";
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) {
    return document.getElementById(id);
  };

  function token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(value) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, value);
    } catch (e) {
      /* private mode: ask again next time */
    }
  }

  function headers() {
    var t = token();
    return t ? { Authorization: "Bearer " + t } : {};
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function query() {
    // empty on the first load: the server's default period (the last 7 days, agents' zone)
    if (!$("from").value || !$("to").value) return "";
    return "?from=" + encodeURIComponent($("from").value) + "&to=" + encodeURIComponent($("to").value);
  }

  function barChart(container, pairs) {
    clear(container);
    if (!pairs.length) {
      container.appendChild(el("p", "empty", "Belum ada data."));
      return;
    }
    var rowH = 20;
    // drawn at the container's own width, so labels keep their size on wide charts
    var width = Math.max(300, container.clientWidth || 460);
    var labelW = Math.min(280, Math.round(width * 0.4));
    var max = Math.max.apply(null, pairs.map(function (p) { return p[1]; })) || 1;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + width + " " + pairs.length * rowH);
    svg.setAttribute("width", width);
    svg.setAttribute("height", pairs.length * rowH);
    svg.setAttribute("role", "img");
    pairs.forEach(function (pair, i) {
      var y = i * rowH;
      var label = document.createElementNS(SVG, "text");
      label.setAttribute("x", 0);
      label.setAttribute("y", y + 14);
      label.textContent = String(pair[0]).slice(0, Math.floor(labelW / 6.5));
      svg.appendChild(label);
      var bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("class", "bar");
      bar.setAttribute("x", labelW);
      bar.setAttribute("y", y + 3);
      bar.setAttribute("height", rowH - 6);
      bar.setAttribute("width", Math.max(1, ((width - labelW - 40) * pair[1]) / max));
      svg.appendChild(bar);
      var value = document.createElementNS(SVG, "text");
      value.setAttribute("x", labelW + 4 + ((width - labelW - 40) * pair[1]) / max);
      value.setAttribute("y", y + 14);
      value.textContent = String(pair[1]);
      svg.appendChild(value);
    });
    container.appendChild(svg);
  }

  function entries(object) {
    return Object.keys(object || {}).map(function (k) { return [k, object[k]]; });
  }

  function table(container, rows, columns) {
    clear(container);
    if (!rows.length) {
      container.appendChild(el("p", "empty", "Tidak ada."));
      return;
    }
    var t = el("table");
    var head = el("tr");
    columns.forEach(function (c) { head.appendChild(el("th", "", c[1])); });
    t.appendChild(head);
    rows.forEach(function (row) {
      var tr = el("tr");
      columns.forEach(function (c) {
        var v = row[c[0]];
        tr.appendChild(el("td", "", Array.isArray(v) ? v.join(" | ") : v === null ? "" : v));
      });
      t.appendChild(tr);
    });
    container.appendChild(t);
  }

  function pct(x) {
    return (Math.round(x * 1000) / 10).toFixed(1) + "%";
  }

  function render(data) {
    $("report").hidden = false; // shown first: the charts take the width of their boxes
    var t = data.totals;
    var tiles = [
      ["cases", t.cases, "Kasus terjawab"],
      ["messages", t.messages, "Pesan agen"],
      ["uncertain", t.uncertain, "Jawaban ragu"],
      ["tidak_tercakup", t.tidak_tercakup, "Tidak tercakup"],
      ["fallback", t.fallback + " (" + pct(t.fallback_rate) + ")", "Fallback"],
      ["out_of_scope", t.out_of_scope + " (" + pct(t.out_of_scope_rate) + ")", "Di luar cakupan"],
      ["busy", t.busy, "Jawaban sibuk"],
      ["turns", data.turns.mean === null ? "-" : data.turns.mean, "Rata-rata giliran"],
      ["seconds", data.seconds.mean === null ? "-" : data.seconds.mean + " dtk", "Rata-rata detik"],
      ["up", data.feedback.up, "👍 Membantu"],
      ["down", data.feedback.down, "👎 Salah"],
      ["wrong_case", data.feedback.wrong_case, "Salah kasus"],
      ["copy_ticket", data.feedback.copy_ticket, "Tiket disalin"],
      ["ask_tl", data.feedback.ask_tl, "Tanya TL"],
    ];
    var totals = clear($("totals"));
    tiles.forEach(function (tile) {
      var box = el("div", "tile");
      box.setAttribute("data-figure", tile[0]);
      box.appendChild(el("div", "value", tile[1]));
      box.appendChild(el("div", "label", tile[2]));
      totals.appendChild(box);
    });
    barChart($("chart-days"), data.cases_per_day.map(function (d) { return [d.day, d.cases]; }));
    barChart($("chart-sop"), entries(data.per_sop));
    barChart($("chart-channel"), entries(data.per_channel));
    barChart($("chart-feedback"), [
      ["membantu (👍)", data.feedback.up],
      ["salah (👎)", data.feedback.down],
      ["salah kasus", data.feedback.wrong_case],
      ["salin tiket", data.feedback.copy_ticket],
      ["Tanya TL", data.feedback.ask_tl],
    ]);
    barChart($("chart-case"), entries(data.case_ids));
    table($("down"), data.thumbs_down, [
      ["time", "Waktu"], ["agent", "Agen"], ["case_id", "Cabang"], ["feedback", "Masukan"],
      ["reason", "Alasan"], ["messages", "Pesan agen"],
    ]);
    table($("uncertain"), data.uncertain_answers, [
      ["time", "Waktu"], ["agent", "Agen"], ["case_id", "Cabang"], ["feedback", "Masukan"],
    ]);
    table($("fallback"), data.fallback_messages, [
      ["time", "Waktu"], ["agent", "Agen"], ["text", "Pesan"],
    ]);
    $("report").hidden = false;
    document.body.setAttribute("data-ready", "true");
  }

  function load() {
    $("status").textContent = "Memuat…";
    return fetch("/ops/data.json" + query(), { headers: headers() })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.status === 401 || response.status === 403) {
            $("signin").hidden = false;
            $("report").hidden = true;
            $("signin-error").textContent = response.status === 403 ? "Token salah." : "";
            $("status").textContent = "";
            return;
          }
          if (!response.ok) {
            $("status").textContent = (data && data.error) || "Gagal (HTTP " + response.status + ").";
            return;
          }
          $("signin").hidden = true;
          $("from").value = data.period.from;
          $("to").value = data.period.to;
          $("status").textContent = "Periode " + data.period.from + " s.d. " + data.period.to;
          render(data);
        });
      })
      .catch(function () {
        $("status").textContent = "Tidak bisa menghubungi server.";
      });
  }

  function downloadCsv() {
    fetch("/ops/cases.csv" + query(), { headers: headers() })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.blob();
      })
      .then(function (blob) {
        var link = el("a");
        link.href = URL.createObjectURL(blob);
        link.download = "kasus-" + ($("from").value || "") + "-" + ($("to").value || "") + ".csv";
        document.body.appendChild(link);
        link.click();
        document.body.removeChild(link);
      })
      .catch(function (error) {
        $("status").textContent = "CSV gagal: " + error.message;
      });
  }

  $("period").addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  $("signin").addEventListener("submit", function (event) {
    event.preventDefault();
    setToken($("token").value);
    $("token").value = "";
    load();
  });
  $("csv").addEventListener("click", downloadCsv);
  load();
})();
