// Profit calculator page: reads the form, asks the API for today's figures, the projection,
// the Monte Carlo bands and the tornado, and draws them. The address bar always holds the
// inputs (a link that restores the page); the form itself still works without this script.
(function () {
  "use strict";
  var form = document.getElementById("calculator-form");
  if (!form || !window.HI || !window.HI.api) { return; }
  var t = window.HI.t;
  var locale = window.HI.locale === "zh-CN" ? "zh-CN" : "en-US";
  var catalogue = JSON.parse(document.getElementById("calculator-catalogue").textContent || "[]");
  var storedMarket = JSON.parse(document.getElementById("calculator-market").textContent || "{}");
  var byId = {};
  catalogue.forEach(function (m) { byId[String(m.id)] = m; });

  var PLAIN = ["electricity_usd_per_kwh", "pue", "curtailment_hours_per_day",
    "hosting_usd_per_miner_month", "hosting_usd_per_kwh", "months"];
  var PERCENT = { uptime_pct: "uptime", pool_fee_pct: "pool_fee", dev_fee_pct: "dev_fee",
    hosting_share_pct: "hosting_revenue_share", hashrate_growth_pct: "hashrate_growth_per_month",
    price_growth_pct: "price_growth_per_month", discount_rate_pct: "discount_rate_annual" };
  var MARKET = ["btc_price_usd", "difficulty", "fees_per_block_btc", "block_height"];
  var MINER = ["quantity", "capex_usd", "salvage_usd", "idle_power_w"];
  var URL_FIELDS = ["model", "mode", "quantity", "hashrate_ths", "power_w", "capex_usd",
    "salvage_usd", "idle_power_w", "electricity_usd_per_kwh"].concat(MARKET, PLAIN.slice(1),
    Object.keys(PERCENT), ["compare"]);
  var RATIO_KEYS = { roi: 1, irr_annual: 1, probability_of_payback: 1 };
  var INPUT_NAMES = {
    btc_price_usd: "BTC price", difficulty: "Network difficulty", hashrate_ths: "Hashrate",
    power_w: "Power", electricity_usd_per_kwh: "Electricity price", fees_per_block_btc: "Fees per block",
    pool_fee: "Pool fee", dev_fee: "Firmware fee", uptime: "Uptime", curtailment_hours_per_day: "Curtailed hours",
    idle_power_w: "Idle draw", pue: "PUE (overhead)", hosting_usd_per_miner_month: "Hosting, flat",
    hosting_usd_per_kwh: "Hosting, metered", hosting_revenue_share: "Host's revenue share",
    capex_usd: "Price per machine"
  };
  var METHOD_NAMES = { difficulty: "Difficulty formula", network_share: "Share of network hashrate",
    hashprice_index: "Hashprice index", realized_payouts: "Pool payouts" };
  var NOTES = {
    expected_value: "What an FPPS pool pays on.",
    network_hashrate_derived_from_difficulty: "Derived from the difficulty: not an independent check.",
    observed_blocks: "Observed hashrate: differs by luck and growth since the last adjustment.",
    published_index: "A published index.",
    pool_payouts_net_of_fee: "After the pool fee."
  };
  var ACCENT = "#f7931a";
  var GRID = "rgba(255,255,255,0.08)";
  var TEXT = "#adb5bd";

  var errorBox = document.getElementById("calculator-error");
  var example = document.getElementById("calculator-example");
  var modelSelect = form.elements.model;
  var modeSelect = form.elements.mode;
  var search = document.getElementById("model-search");
  var charts = {};
  var timer = null;
  var sequence = 0;

  document.querySelectorAll("[data-needs-script]").forEach(function (el) { el.classList.remove("d-none"); });
  search.classList.remove("d-none");

  function value(name) {
    var el = form.elements[name];
    if (!el) { return ""; }
    if (el.type === "checkbox") { return el.checked ? "1" : ""; }
    return String(el.value || "").trim();
  }

  function fmt(number, decimals) {
    if (number === null || number === undefined || !isFinite(number)) { return "—"; }
    if (Math.abs(number) < 0.5 * Math.pow(10, -decimals)) { number = 0; }
    return new Intl.NumberFormat(locale, {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals
    }).format(number);
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    if (seconds < 60) { return t("just now"); }
    if (seconds < 3600) { return t("%(n)s min ago").replace("%(n)s", Math.floor(seconds / 60)); }
    if (seconds < 172800) { return t("%(n)s h ago").replace("%(n)s", Math.floor(seconds / 3600)); }
    return t("%(n)s days ago").replace("%(n)s", Math.floor(seconds / 86400));
  }

  function showError(message) {
    errorBox.textContent = message ? t("Please check the numbers.") + " " + message : "";
    errorBox.classList.toggle("d-none", !message);
  }

  // --- the miner: model, power mode, and the figures they give -------------------------

  function chosenModel() { return byId[modelSelect.value] || null; }

  function operatingPoint(model, modeName) {
    var mode = null;
    model.modes.forEach(function (m) {
      if (modeName ? m.name.toLowerCase() === modeName.toLowerCase() : m.is_default) { mode = m; }
    });
    return mode ? { ths: mode.hashrate_ths, w: mode.power_w } : { ths: model.hashrate_ths, w: model.power_w };
  }

  function fillModes() {
    var model = chosenModel();
    var keep = modeSelect.value;
    while (modeSelect.options.length > 1) { modeSelect.remove(1); }
    if (model) {
      model.modes.forEach(function (m) {
        var option = new Option(m.name + " · " + m.hashrate_ths + " TH/s · " + m.power_w + " W", m.name);
        modeSelect.add(option);
      });
    }
    modeSelect.value = model && model.modes.some(function (m) { return m.name === keep; }) ? keep : "";
    document.getElementById("mode-group").classList.toggle("d-none", !model || !model.modes.length);
    syncFigures();
  }

  function syncFigures() {
    var model = chosenModel();
    ["hashrate_ths", "power_w"].forEach(function (name) { form.elements[name].readOnly = !!model; });
    if (model) {
      var point = operatingPoint(model, modeSelect.value);
      form.elements.hashrate_ths.value = point.ths;
      form.elements.power_w.value = point.w;
    }
  }

  // --- the API body, built exactly as plugins/calculator/form.py builds it ---------------

  function readBody() {
    var ok = true;
    var body = {};
    function number(name) {
      var el = form.elements[name];
      var raw = value(name);
      var n = Number(raw);
      var valid = raw === "" || (isFinite(n) && el.validity.valid);
      el.classList.toggle("is-invalid", !valid);
      if (!valid) { ok = false; }
      return raw === "" || !valid ? null : n;
    }
    PLAIN.forEach(function (name) { var n = number(name); if (n !== null) { body[name] = n; } });
    Object.keys(PERCENT).forEach(function (name) {
      var n = number(name); if (n !== null) { body[PERCENT[name]] = n / 100; }
    });
    MARKET.forEach(function (name) { var n = number(name); if (n !== null) { body[name] = n; } });
    body.switch_off_when_unprofitable = value("switch_off") === "1";
    var primary = {};
    var model = chosenModel();
    if (model) {
      primary.model_id = model.id;
      if (value("mode")) { primary.mode = value("mode"); }
    } else {
      ["hashrate_ths", "power_w"].forEach(function (name) {
        var n = number(name);
        if (n === null) { form.elements[name].classList.add("is-invalid"); ok = false; } else { primary[name] = n; }
      });
    }
    MINER.forEach(function (name) { var n = number(name); if (n !== null) { primary[name] = n; } });
    var primaryThs = model ? operatingPoint(model, value("mode")).ths : primary.hashrate_ths;
    var exampleUsed = !("capex_usd" in primary);
    var perTh = exampleUsed ? Number(form.getAttribute("data-example-usd-per-th")) : primary.capex_usd / primaryThs;
    if (exampleUsed && primaryThs) { primary.capex_usd = Math.round(perTh * primaryThs * 100) / 100; }
    var miners = [primary];
    compareList().forEach(function (entry) {
      var other = byId[String(entry.model_id)];
      if (!other) { return; }
      var item = { model_id: other.id };
      if (entry.mode) { item.mode = entry.mode; }
      if ("quantity" in primary) { item.quantity = primary.quantity; }
      item.capex_usd = Math.round(perTh * operatingPoint(other, entry.mode).ths * 100) / 100;
      miners.push(item);
    });
    body.miners = miners;
    if (example) { example.classList.toggle("d-none", !exampleUsed); }
    return ok ? body : null;
  }

  // --- comparison list ("12,15:eco" in the compare field) ---------------------------------

  function compareList() {
    return value("compare").split(",").map(function (part) {
      var bits = part.trim().split(":");
      return { model_id: bits[0].trim(), mode: (bits[1] || "").trim() };
    }).filter(function (e) { return /^\d+$/.test(e.model_id); });
  }

  function setCompare(list) {
    form.elements.compare.value = list.map(function (e) {
      return e.model_id + (e.mode ? ":" + e.mode : "");
    }).join(",");
  }

  document.getElementById("compare-add-button").addEventListener("click", function () {
    var id = document.getElementById("compare-add").value;
    var list = compareList();
    if (!id || list.length >= 11 || list.some(function (e) { return e.model_id === id; })) { return; }
    list.push({ model_id: id, mode: "" });
    setCompare(list);
    later(0);
  });

  // --- drawing ---------------------------------------------------------------------------

  function countTo(el, target) {
    var decimals = parseInt(el.getAttribute("data-decimals"), 10);
    var previous = parseFloat(el.getAttribute("data-value"));
    el.setAttribute("data-value", target === null ? "" : String(target));
    if (el.hasAttribute("data-signed")) { el.classList.toggle("text-danger", target !== null && target < 0); }
    if (target === null || target === undefined || !isFinite(target)) { el.textContent = "—"; return; }
    if (window.countUp && isFinite(previous) && previous !== target) {
      var counter = new window.countUp.CountUp(el, target, {
        startVal: previous, decimalPlaces: decimals, duration: 0.6,
        formattingFn: function (n) { return fmt(n, decimals); }
      });
      if (!counter.error) { counter.start(); return; }
    }
    el.textContent = fmt(target, decimals);
  }

  function renderFigures(source, figures) {
    document.querySelectorAll('[data-source="' + source + '"]').forEach(function (el) {
      var key = el.getAttribute("data-result");
      var v = figures[key];
      if (v !== null && v !== undefined && RATIO_KEYS[key]) { v = v * 100; }
      countTo(el, v === undefined ? null : v);
    });
  }

  function renderMarket(market) {
    var parts = [];
    MARKET.forEach(function (name) {
      var m = market[name];
      var source = document.querySelector('[data-market-source="' + name + '"]');
      var input = form.elements[name];
      var reset = document.querySelector('[data-market-reset="' + name + '"]');
      var typed = value(name) !== "";
      reset.classList.toggle("d-none", !typed);
      if (source && !typed) {
        var stored = storedMarket[name] || m;
        source.textContent = "";
        if (stored && stored.value !== null && !stored.from_request) {
          source.appendChild(document.createTextNode(t("Market") + ": " + stored.source + " · " + age(stored.age_s)));
          if (stored.stale) { source.appendChild(badge(t("stale"), "text-bg-warning")); }
          input.placeholder = String(stored.value);
        }
      } else if (source) {
        source.textContent = "";
        source.appendChild(badge(t("your value"), "text-bg-info"));
      }
      if (m && m.value !== null) {
        parts.push(m.from_request ? t("your value") : m.source + (m.stale ? " (" + t("stale") + ")" : ""));
      }
    });
    var used = document.getElementById("calculator-market-used");
    used.textContent = t("Market values used") + ": " + [
      t("BTC price") + " " + fmt(market.btc_price_usd.value, 0) + " USD",
      t("Network difficulty") + " " + (market.difficulty.value / 1e12).toFixed(2) + " T",
      t("Block height") + " " + fmt(market.block_height.value, 0)
    ].join(" · ");
  }

  function badge(text, kind) {
    var span = document.createElement("span");
    span.className = "badge ms-1 " + kind;
    span.textContent = text;
    if (kind === "text-bg-warning") { span.setAttribute("data-stale", ""); }
    return span;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function renderCompare(quote, projection) {
    var body = document.querySelector("#compare-table tbody");
    body.textContent = "";
    quote.results.forEach(function (r, n) {
      var summary = projection ? projection.results[n].summary : {};
      var tr = document.createElement("tr");
      cell(tr, r.miner.label + (n === 0 ? " ★" : ""));
      cell(tr, fmt(r.miner.hashrate_ths, 0), "text-end");
      cell(tr, fmt(r.miner.efficiency_j_per_th, 1), "text-end");
      cell(tr, fmt(r.figures.profit_usd_per_day, 2), "text-end" + (r.figures.profit_usd_per_day < 0 ? " text-danger" : ""));
      cell(tr, fmt(r.figures.break_even_usd_per_kwh, 4), "text-end");
      cell(tr, summary.payback_months === null || summary.payback_months === undefined ? t("never") :
        fmt(summary.payback_months, 1) + " " + t("months"), "text-end");
      cell(tr, summary.roi === null || summary.roi === undefined ? "—" : fmt(summary.roi * 100, 0) + "%", "text-end");
      var last = cell(tr, "");
      if (n > 0) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-link text-secondary p-0";
        button.setAttribute("aria-label", t("Remove"));
        button.innerHTML = '<i class="bi bi-x-lg"></i>';
        button.addEventListener("click", function () {
          var list = compareList();
          list.splice(n - 1, 1);
          setCompare(list);
          later(0);
        });
        last.appendChild(button);
      }
      body.appendChild(tr);
    });
  }

  function renderRevenueCheck(check) {
    var body = document.querySelector("#revenue-table tbody");
    body.textContent = "";
    check.methods.forEach(function (m) {
      var tr = document.createElement("tr");
      cell(tr, t(METHOD_NAMES[m.method] || m.method) + (m.basis === "net" ? " (" + t("net") + ")" : ""));
      cell(tr, fmt(m.btc_per_day, 8), "text-end");
      var diff = cell(tr, m.divergence === null ? "—" : (m.divergence >= 0 ? "+" : "") + fmt(m.divergence * 100, 1) + "%", "text-end");
      if (m.flagged) { diff.appendChild(badge(t("differs"), "text-bg-warning")); }
      cell(tr, t(NOTES[m.note] || m.note), "small text-secondary");
      body.appendChild(tr);
    });
  }

  // Chart.js: a vertical line at the halving, drawn after the datasets.
  var halvingLine = {
    id: "halvingLine",
    afterDatasetsDraw: function (chart, args, options) {
      if (options.month === null || options.month === undefined) { return; }
      var x = chart.scales.x.getPixelForValue(options.month);
      if (x < chart.chartArea.left || x > chart.chartArea.right) { return; }
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#6ea8fe";
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, chart.chartArea.top);
      ctx.lineTo(x, chart.chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = "#6ea8fe";
      ctx.fillText(options.label, Math.min(x + 4, chart.chartArea.right - 60), chart.chartArea.top + 12);
      ctx.restore();
    }
  };

  function baseOptions(yLabel) {
    return {
      responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      interaction: { mode: "nearest", intersect: false },
      scales: {
        x: { type: "linear", title: { display: true, text: t("Months from now"), color: TEXT },
          ticks: { color: TEXT }, grid: { color: GRID } },
        y: { title: { display: true, text: yLabel, color: TEXT }, ticks: { color: TEXT }, grid: { color: GRID } }
      },
      plugins: { legend: { labels: { color: TEXT, boxWidth: 12 } } }
    };
  }

  function draw(name, config) {
    if (!window.Chart) { return; }
    if (charts[name]) {
      charts[name].data = config.data;
      charts[name].options = config.options;
      charts[name].update();
    } else {
      charts[name] = new window.Chart(document.getElementById("chart-" + name), config);
    }
  }

  var PALETTE = [ACCENT, "#20c997", "#6ea8fe", "#d63384", "#ffc107", "#adb5bd", "#fd7e14", "#6f42c1"];

  function drawCashflow(projection) {
    var datasets = projection.results.map(function (r, n) {
      var points = [{ x: 0, y: -r.summary.capex_usd }];
      r.series.cumulative_cash_flow_usd.forEach(function (v, i) { points.push({ x: projection.months[i], y: v }); });
      return { label: r.miner.label, data: points, borderColor: PALETTE[n % PALETTE.length],
        backgroundColor: PALETTE[n % PALETTE.length], borderDash: n ? [4, 3] : [], pointRadius: 0, borderWidth: n ? 1.5 : 2.5 };
    });
    var payback = projection.results[0].summary.payback_months;
    if (payback !== null) {
      datasets.push({ label: t("Payback"), data: [{ x: payback, y: 0 }], type: "scatter",
        pointStyle: "triangle", pointRadius: 8, borderColor: "#fff", backgroundColor: ACCENT });
    }
    var options = baseOptions("USD");
    options.plugins.halvingLine = { month: projection.halving_month, label: t("Halving") };
    draw("cashflow", { type: "line", data: { datasets: datasets }, options: options, plugins: [halvingLine] });
    var note = [];
    note.push(payback === null ? t("No payback within the horizon.") :
      t("Pays back after %(n)s months.").replace("%(n)s", fmt(payback, 1)));
    if (projection.halving_date) { note.push(t("Next halving around %(date)s.").replace("%(date)s", projection.halving_date)); }
    document.getElementById("cashflow-note").textContent = note.join(" ");
  }

  function drawMonteCarlo(mc) {
    function series(key) {
      return mc.cumulative_cash_flow_usd[key].map(function (v, i) { return { x: mc.months[i], y: v }; });
    }
    var options = baseOptions("USD");
    draw("montecarlo", { type: "line", options: options, data: { datasets: [
      { label: "P10", data: series("p10"), borderColor: "rgba(247,147,26,0.5)", pointRadius: 0, borderWidth: 1, fill: false },
      { label: "P90", data: series("p90"), borderColor: "rgba(247,147,26,0.5)", backgroundColor: "rgba(247,147,26,0.18)",
        pointRadius: 0, borderWidth: 1, fill: "-1" },
      { label: "P50", data: series("p50"), borderColor: ACCENT, pointRadius: 0, borderWidth: 2.5, fill: false }
    ] } });
    document.getElementById("montecarlo-note").textContent =
      t("%(paths)s market paths: the band holds 8 in 10 of them.").replace("%(paths)s", fmt(mc.paths, 0)) + " " +
      t("Chance of payback within the horizon: %(p)s").replace("%(p)s", fmt(mc.probability_of_payback * 100, 0)) + "%";
  }

  function drawTornado(tornado) {
    var rows = tornado.rows.slice(0, 10);
    var base = tornado.base_profit_usd_per_day;
    function widest(row) { return row.steps[row.steps.length - 1]; }
    draw("tornado", { type: "bar", data: {
      labels: rows.map(function (r) { return t(INPUT_NAMES[r.input] || r.input); }),
      datasets: [
        { label: t("Input lower"), data: rows.map(function (r) { return [base, widest(r).profit_low]; }),
          backgroundColor: "rgba(110,168,254,0.75)" },
        { label: t("Input higher"), data: rows.map(function (r) { return [base, widest(r).profit_high]; }),
          backgroundColor: "rgba(247,147,26,0.75)" }
      ] }, options: {
      indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      scales: { x: { title: { display: true, text: t("Profit per day") + " (USD)", color: TEXT },
        ticks: { color: TEXT }, grid: { color: GRID } },
        y: { stacked: true, ticks: { color: TEXT }, grid: { display: false } } },
      plugins: { legend: { labels: { color: TEXT, boxWidth: 12 } } } } });
  }

  // --- one round: four API calls, drawn as they arrive --------------------------------------

  function keepAddress() {
    var query = new URLSearchParams();
    URL_FIELDS.forEach(function (name) {
      var v = value(name);
      if (name === "hashrate_ths" || name === "power_w") { if (chosenModel()) { return; } }
      if (v !== "") { query.set(name, v); }
    });
    if (value("switch_off")) { query.set("switch_off", "1"); }
    window.history.replaceState(null, "", form.getAttribute("action") + "?" + query.toString());
  }

  function update() {
    var body = readBody();
    if (!body) { showError(t("Please check the numbers marked in red.")); form.removeAttribute("data-busy"); return; }
    var mine = ++sequence;
    keepAddress();
    var single = Object.assign({}, body, { miners: body.miners.slice(0, 1) });
    var quote = window.HI.api(form.getAttribute("data-quote"), { method: "POST", body: pick(body, "quote") });
    var projection = window.HI.api(form.getAttribute("data-projection"), { method: "POST", body: pick(body, "projection") });
    quote.then(function (q) {
      if (mine !== sequence) { return; }
      showError("");
      renderFigures("quote", q.results[0].figures);
      renderMarket(q.market);
      renderRevenueCheck(q.results[0].revenue_check);
      renderCompare(q, null);
      projection.then(function (p) { if (mine === sequence) { renderCompare(q, p); } }).catch(function () {});
    }).catch(function (error) { if (mine === sequence) { showError(error.message); } });
    projection.then(function (p) {
      if (mine !== sequence) { return; }
      renderFigures("projection", p.results[0].summary);
      drawCashflow(p);
    }).catch(function () {});
    var mc = Object.assign(pick(single, "projection"), { paths: 500, seed: 42 });
    var montecarlo = window.HI.api(form.getAttribute("data-montecarlo"), { method: "POST", body: mc });
    montecarlo.then(function (m) {
      if (mine !== sequence) { return; }
      renderFigures("montecarlo", m);
      drawMonteCarlo(m);
    }).catch(function () {});
    var tornado = window.HI.api(form.getAttribute("data-sensitivity"), { method: "POST", body: pick(single, "quote") });
    tornado.then(function (s) { if (mine === sequence) { drawTornado(s); } }).catch(function () {});
    // data-busy marks a round in flight (tests and screen readers wait for it to go).
    form.setAttribute("data-busy", "1");
    Promise.allSettled([quote, projection, montecarlo, tornado]).then(function () {
      if (mine === sequence) { form.removeAttribute("data-busy"); }
    });
    return quote;
  }

  // The quote takes no projection settings; the projection takes no revenue-check inputs.
  var PROJECTION_ONLY = ["months", "hashrate_growth_per_month", "price_growth_per_month",
    "discount_rate_annual", "switch_off_when_unprofitable"];
  function pick(body, kind) {
    var out = Object.assign({}, body);
    if (kind === "quote") { PROJECTION_ONLY.forEach(function (k) { delete out[k]; }); }
    return out;
  }

  function later(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, delay === undefined ? 300 : delay);
  }

  // --- events ------------------------------------------------------------------------------

  Array.prototype.forEach.call(form.elements, function (el) {
    if (!el.name || el === modelSelect || el === modeSelect) { return; }
    el.addEventListener(el.type === "checkbox" ? "change" : "input", function () { later(); });
  });
  ["hashrate_ths", "power_w"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      if (form.elements[name].readOnly) { return; }
      modelSelect.value = "";
    });
  });
  modelSelect.addEventListener("change", function () { fillModes(); later(0); });
  modeSelect.addEventListener("change", function () { syncFigures(); later(0); });
  document.querySelectorAll("[data-market-reset]").forEach(function (button) {
    button.addEventListener("click", function () {
      form.elements[button.getAttribute("data-market-reset")].value = "";
      later(0);
    });
  });
  search.addEventListener("input", function () {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var first = null;
    Array.prototype.forEach.call(modelSelect.options, function (option) {
      if (!option.value) { return; }
      var hit = words.every(function (w) { return option.text.toLowerCase().indexOf(w) >= 0; });
      option.hidden = !hit;
      if (hit && !first) { first = option; }
    });
    if (first && words.length) {
      modelSelect.value = first.value;
      fillModes();
      later();
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); later(0); });

  var share = document.getElementById("calculator-share");
  share.classList.remove("d-none");
  share.addEventListener("click", function () {
    var done = function () { share.textContent = t("Copied"); };
    if (navigator.clipboard) { navigator.clipboard.writeText(window.location.href).then(done, done); } else { done(); }
  });

  // The server already drew today's figures; fetch the rest.
  syncFigures();
  update();
})();
