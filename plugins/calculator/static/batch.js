// Batch page: a grid (models x BTC prices x electricity rates) or an uploaded file goes to the
// batch API in one request; the progress bar follows the upload, the run and the download.
// The table shows the first rows; CSV and Excel hold all of them.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form || !window.HI) { return; }
  var t = window.HI.t;
  var locale = window.HI.locale === "zh-CN" ? "zh-CN" : "en-US";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var SHOWN = 500;
  var errorBox = document.getElementById("batch-error");
  var progressBox = document.getElementById("batch-progress-box");
  var bar = document.getElementById("batch-progress");
  var label = document.getElementById("batch-progress-label");
  var chart = null;
  var last = null; // the request that made the table, repeated for the downloads

  function mode() {
    var active = form.querySelector(".nav-link.active");
    return active ? active.getAttribute("data-mode") : "grid";
  }

  function numbers(text) {
    return String(text || "").split(/[\s,;]+/).filter(Boolean).map(Number);
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.classList.toggle("d-none", !message);
  }

  function progress(text, fraction) {
    progressBox.classList.remove("d-none");
    label.textContent = text;
    var busy = fraction === null;
    bar.style.width = (busy ? 100 : Math.round(fraction * 100)) + "%";
    bar.classList.toggle("progress-bar-striped", busy);
    bar.classList.toggle("progress-bar-animated", busy);
  }

  // One request: the body is JSON (grid) or the file itself; the answer JSON or a file.
  function send(request, format) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var sep = request.url.indexOf("?") >= 0 ? "&" : "?";
      xhr.open("POST", request.url + sep + "format=" + format);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Content-Type", request.type);
      xhr.setRequestHeader("Accept", format === "json" ? "application/json" : "*/*");
      xhr.responseType = format === "json" ? "json" : "blob";
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { progress(t("Uploading…"), e.loaded / e.total); }
      };
      xhr.upload.onload = function () { progress(t("Calculating…"), null); };
      xhr.onprogress = function (e) {
        if (e.lengthComputable && e.total > 50000) { progress(t("Downloading…"), e.loaded / e.total); }
      };
      xhr.onload = function () {
        progressBox.classList.add("d-none");
        if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.response); return; }
        var answer = xhr.response;
        if (answer instanceof Blob) {
          answer.text().then(function (text) {
            try { reject(new Error(JSON.parse(text).error.message)); } catch (e) { reject(new Error(t("Something went wrong. Please try again."))); }
          });
          return;
        }
        reject(new Error((answer && answer.error && answer.error.message) || t("Something went wrong. Please try again.")));
      };
      xhr.onerror = function () {
        progressBox.classList.add("d-none");
        reject(new Error(t("Something went wrong. Please try again.")));
      };
      progress(t("Calculating…"), null);
      xhr.send(request.body);
    });
  }

  function buildRequest() {
    var quantity = Number(document.getElementById("batch-quantity").value || 1);
    var poolFee = Number(document.getElementById("batch-pool-fee").value || 0) / 100;
    if (mode() === "grid") {
      var models = Array.prototype.map.call(
        document.querySelectorAll("#batch-models input:checked"),
        function (box) { return { model_id: Number(box.value), quantity: quantity }; });
      if (!models.length) { throw new Error(t("Choose at least one model.")); }
      var grid = { models: models };
      var prices = numbers(document.getElementById("batch-prices").value);
      var rates = numbers(document.getElementById("batch-rates").value);
      if (prices.length) { grid.btc_prices_usd = prices; }
      if (rates.length) { grid.electricity_usd_per_kwh = rates; }
      return { url: form.getAttribute("data-grid"), type: "application/json",
        body: JSON.stringify({ grid: grid, pool_fee: poolFee }) };
    }
    var file = document.getElementById("batch-upload").files[0];
    if (!file) { throw new Error(t("Choose a CSV or Excel file.")); }
    var query = new URLSearchParams({ pool_fee: String(poolFee) });
    var rate = document.getElementById("batch-default-rate").value.trim();
    if (rate) { query.set("electricity_usd_per_kwh", rate); }
    var xlsx = /\.xlsx$/i.test(file.name);
    return { url: form.getAttribute("data-file") + "?" + query.toString(),
      type: xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv", body: file };
  }

  function fmt(value) {
    if (value === null || value === undefined) { return "—"; }
    if (typeof value !== "number") { return String(value); }
    var digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 6;
    return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  }

  function render(table) {
    var head = document.querySelector("#batch-table thead");
    var body = document.querySelector("#batch-table tbody");
    head.textContent = "";
    body.textContent = "";
    var tr = document.createElement("tr");
    table.columns.forEach(function (name) {
      var th = document.createElement("th");
      th.scope = "col";
      th.className = "small text-nowrap";
      th.textContent = name;
      tr.appendChild(th);
    });
    head.appendChild(tr);
    var profit = table.columns.indexOf("profit_usd_per_day");
    table.rows.slice(0, SHOWN).forEach(function (row) {
      var line = document.createElement("tr");
      row.forEach(function (value, i) {
        var td = document.createElement("td");
        td.className = "small text-nowrap" + (typeof value === "number" ? " text-end" : "") +
          (i === profit && value < 0 ? " text-danger" : "");
        td.textContent = fmt(value);
        line.appendChild(td);
      });
      body.appendChild(line);
    });
    document.getElementById("batch-count").textContent = t("%(n)s scenarios").replace("%(n)s", fmt(table.count));
    document.getElementById("batch-more").textContent = table.count > SHOWN ?
      t("Showing the first %(shown)s: the downloads hold all of them.").replace("%(shown)s", SHOWN) : "";
    document.getElementById("batch-result").classList.remove("d-none");
    drawChart(table, profit);
  }

  function drawChart(table, profit) {
    if (!window.Chart) { return; }
    var labelAt = table.columns.indexOf("label");
    var priceAt = table.columns.indexOf("btc_price_usd");
    var rateAt = table.columns.indexOf("electricity_usd_per_kwh");
    var rows = table.rows.slice(0, 200);
    var data = {
      labels: rows.map(function (r) { return r[labelAt] + " · " + fmt(r[priceAt]) + " · " + r[rateAt]; }),
      datasets: [{ label: t("Profit per day") + " (USD)", data: rows.map(function (r) { return r[profit]; }),
        backgroundColor: rows.map(function (r) { return r[profit] < 0 ? "rgba(220,53,69,0.7)" : "rgba(247,147,26,0.75)"; }) }]
    };
    var options = { responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      scales: { x: { ticks: { display: false }, grid: { display: false } },
        y: { ticks: { color: "#adb5bd" }, grid: { color: "rgba(255,255,255,0.08)" } } },
      plugins: { legend: { labels: { color: "#adb5bd" } } } };
    if (chart) { chart.data = data; chart.update(); } else {
      chart = new window.Chart(document.getElementById("batch-chart"), { type: "bar", data: data, options: options });
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var request;
    try { request = buildRequest(); } catch (error) { showError(error.message); return; }
    send(request, "json").then(function (table) { last = request; render(table); })
      .catch(function (error) { showError(error.message); });
  });

  document.querySelectorAll("[data-download]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!last) { return; }
      var kind = button.getAttribute("data-download");
      send(last, kind).then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = "hashinsight-batch." + kind;
        document.body.appendChild(link);
        link.click();
        window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      }).catch(function (error) { showError(error.message); });
    });
  });

  document.getElementById("batch-model-search").addEventListener("input", function (event) {
    var words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("#batch-models [data-name]").forEach(function (row) {
      var name = row.getAttribute("data-name");
      row.classList.toggle("d-none", !words.every(function (w) { return name.indexOf(w) >= 0; }));
    });
  });
})();
