// Dashboard charts: each <figure data-chart> carries its rows as JSON (the same rows as its table and
// CSV) and is drawn with ECharts, served from our own static files.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-CN";
  var label = function (figure, key) { return figure.getAttribute("data-label-" + key) || key; };

  function option(figure, rows) {
    var kind = figure.getAttribute("data-kind");
    var x = figure.getAttribute("data-x");
    if (kind === "trend") {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [label(figure, "kg"), label(figure, "points")] },
        grid: { left: 56, right: 56, bottom: 32, top: 56 },
        xAxis: { type: "category", data: rows.map(function (r) {
        // names come in both languages: the English one on an English page, when there is one
        return x === "name" && lang.indexOf("en") === 0 && r.name_en ? r.name_en : r[x]; }) },
        yAxis: [{ type: "value", name: label(figure, "kg") }, { type: "value", name: label(figure, "points") }],
        series: [
          { name: label(figure, "kg"), type: "line", smooth: true,
            data: rows.map(function (r) { return Math.round(r.grams / 10) / 100; }) },
          { name: label(figure, "points"), type: "bar", yAxisIndex: 1, data: rows.map(function (r) { return r.points; }) }
        ]
      };
    }
    var value = figure.getAttribute("data-value");
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, bottom: 24, top: 16, containLabel: true },
      xAxis: { type: "value", name: label(figure, value) },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) {
        // names come in both languages: the English one on an English page, when there is one
        return x === "name" && lang.indexOf("en") === 0 && r.name_en ? r.name_en : r[x]; }) },
      series: [{ name: label(figure, value), type: "bar",
                 data: rows.map(function (r) { return value === "grams" ? Math.round(r.grams / 10) / 100 : r[value]; }) }]
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
        chart.setOption(option(figure, rows));
        window.addEventListener("resize", function () { chart.resize(); });
      }
      figure.setAttribute("data-rendered", "true");
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
}());
