// Dashboard charts: each <figure data-chart> carries its rows as JSON (the same rows as its table and
// CSV) and is drawn with ECharts, served from our own static files. Grams are drawn in the page's one unit
// (data-unit: kg or t, chosen by the server from the largest figure), and every axis names its unit.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-CN";
  var label = function (figure, key) { return figure.getAttribute("data-label-" + key) || key; };

  function mass(figure) {
    var divisor = figure.getAttribute("data-unit") === "t" ? 1000000 : 1000;
    var digits = divisor === 1000000 ? 1000 : 100;
    return function (grams) { return Math.round(grams * digits / divisor) / digits; };
  }

  // Axis names never over the plot nor outside the canvas: a trend's two y-axes are named above their ends
  // (aligned inwards), a bar chart's x-axis below its middle, with the grid leaving them room.
  var valueAxis = function (name, extra) {
    var axis = { type: "value", name: name };
    Object.keys(extra || {}).forEach(function (k) { axis[k] = extra[k]; });
    return axis;
  };
  var yName = function (align) {
    return { nameLocation: "end", nameGap: 14, nameTextStyle: { align: align }, boundaryGap: [0, "10%"] };
  };

  function trend(figure, rows) {
    var x = figure.getAttribute("data-x"), toMass = mass(figure);
    var series = [
      { name: label(figure, "mass"), type: "line", smooth: true, data: rows.map(function (r) { return toMass(r.grams); }) },
      { name: label(figure, "points"), type: "bar", yAxisIndex: 1, data: rows.map(function (r) { return r.points; }) }
    ];
    if (rows.length && rows[0].grams_last_year !== undefined) {
      series.push({ name: label(figure, "last-year"), type: "line", smooth: true, lineStyle: { type: "dashed" },
                    data: rows.map(function (r) { return toMass(r.grams_last_year); }) });
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: series.map(function (s) { return s.name; }) },
      grid: { left: 16, right: 16, bottom: 8, top: 64, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return r[x]; }) },
      yAxis: [valueAxis(label(figure, "mass"), yName("left")), valueAxis(label(figure, "points"), yName("right"))],
      series: series
    };
  }

  function bars(figure, rows) {
    var x = figure.getAttribute("data-x"), value = figure.getAttribute("data-value"), toMass = mass(figure);
    var name = label(figure, value === "grams" ? "mass" : value);
    var data = rows.map(function (r) { return value === "grams" ? toMass(r.grams) : r[value]; });
    var extra = { nameLocation: "middle", nameGap: 28 };
    if (value === "burnt_percent") {  // a budget's burn on its whole scale, 0 to 100 %
      extra.min = 0;
      extra.max = Math.max(100, Math.ceil(Math.max.apply(null, data)));
    }
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 32, bottom: 36, top: 16, containLabel: true },
      xAxis: valueAxis(name, extra),
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r[x] || r.name; }) },
      series: [{ name: name, type: "bar", data: data }]
    };
  }

  function draw() {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      var holder = figure.querySelector(".chart");
      var rows = JSON.parse(figure.querySelector("script[type='application/json']").textContent);
      if (!rows.length) { holder.textContent = figure.getAttribute("data-empty") || "—"; holder.classList.add("empty"); }
      else {
        var chart = echarts.init(holder, null, { renderer: "canvas", locale: lang.indexOf("en") === 0 ? "EN" : "ZH" });
        chart.setOption(figure.getAttribute("data-kind") === "trend" ? trend(figure, rows) : bars(figure, rows));
        window.addEventListener("resize", function () { chart.resize(); });
      }
      figure.setAttribute("data-rendered", "true");
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
}());
