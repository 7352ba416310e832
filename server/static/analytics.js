// 分析 charts: each <div class="chart" data-chart='{"type","labels","series","percent"}'> is drawn with the
// vendored ECharts. The numbers are the ones in the table beside the chart (server aggregates).
(function () {
  "use strict";
  var PALETTE = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#6c3483"];

  function fmt(value, percent) {
    if (value === null || value === undefined) { return "—"; }
    return percent ? value.toFixed(1) + "%" : value.toLocaleString("zh-CN", { minimumFractionDigits: 2 });
  }

  function options(spec) {
    var percent = !!spec.percent;
    var horizontal = spec.type === "bar" && spec.labels.length > 6;
    var category = { type: "category", data: spec.labels, axisLabel: { interval: 0, hideOverlap: true } };
    var value = { type: "value", axisLabel: { formatter: percent ? "{value}%" : undefined }, min: 0 };
    return {
      color: PALETTE,
      grid: { left: 8, right: 16, top: spec.series.length > 1 ? 30 : 12, bottom: 8, containLabel: true },
      legend: spec.series.length > 1 ? { top: 0 } : undefined,
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return fmt(v, percent); }
      },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: spec.series.map(function (s) {
        return {
          name: s.name, type: spec.type, data: s.data, connectNulls: false, barMaxWidth: 36,
          label: spec.type === "bar" ? { show: true, position: horizontal ? "right" : "top",
                                         formatter: function (p) { return fmt(p.value, percent); } } : undefined
        };
      })
    };
  }

  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var spec;
      try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      if (!spec.labels || !spec.labels.length) { el.classList.add("empty"); return; }
      var chart = window.echarts.init(el, null, { renderer: "canvas", locale: document.documentElement.lang === "en" ? "EN" : "ZH" });
      chart.setOption(options(spec));
      el.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
