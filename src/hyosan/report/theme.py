"""The reports' one look: the school's run report, the sweep report and the town report share it."""

from __future__ import annotations

#: The page style (light, a readable column, phone layout under 600 px).
PAGE_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:70rem;margin:0 auto;padding:1rem 1.5rem 4rem}
h1{margin:.5rem 0 .2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#666;margin:0 0 1rem}
nav a{margin-right:1rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:8rem}
.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;background:#fff;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
th:first-child,td:first-child,td.t{text-align:left}
img.chart{max-width:100%;background:#fff;border:1px solid #eee;margin:.4rem 0}
.scroll{max-width:100%;overflow-x:auto}
table.heat td{min-width:1.6rem;text-align:center}table.heat td.t{text-align:left}
.warn{background:#fff4e5;border-left:4px solid #f08c00;padding:.4rem .8rem}
table.heat tr.sum td{font-weight:600}
ul.tree{font-size:.9rem;padding-left:1rem}ul.tree ul{padding-left:1.2rem;border-left:1px dotted #ccc}
ul.tree li.leaves{color:#555}ul.tree summary{cursor:pointer}
a.jump{font-variant-numeric:tabular-nums}
.chronicle{background:#fff;border:1px solid #ddd;padding:.5rem 1.2rem;max-height:36rem;overflow:auto}
details{margin:.5rem 0}
@media (max-width:600px){
main{padding:.5rem .7rem 3rem}h1{font-size:1.4rem}h2{font-size:1.2rem}
nav{display:flex;flex-wrap:wrap;gap:.3rem .8rem}nav a{margin:0;padding:.3rem 0}
.card{min-width:0;flex:1 1 40%}.card b{font-size:1.2rem}
table{font-size:.8rem}.chronicle{padding:.3rem .7rem}
}
"""
