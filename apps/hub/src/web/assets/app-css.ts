/** The whole stylesheet: system fonts, no images; readable from 360 px wide up. */
export const APP_CSS = `*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.6rem 1rem;background:#1d2330;color:#fff}
header a{color:#cfd6e4;text-decoration:none;padding:.25rem .4rem;border-radius:4px}header a[aria-current]{background:#39425a;color:#fff}
header nav{display:flex;gap:.25rem;flex-wrap:wrap}.brand{font-size:1.05rem}.right{margin-left:auto;display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
header .muted{color:#9aa3b5}#live.on{color:#3ccf6e}
main{padding:1rem;max-width:1200px;margin:0 auto}
body>footer{padding:.5rem 1rem 1rem;max-width:1200px;margin:0 auto;font-size:.8rem}
h1{font-size:1.25rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:6px}
td,th{padding:.4rem .55rem;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#5b6475}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600}
.badge.ok{background:#dcf5e4;color:#116230}.badge.bad{background:#fde2df;color:#a01d12}.badge.warn{background:#fff1cc;color:#7a5200}.badge.muted{background:#eceef2;color:#515a6b}
.muted{color:#6b7280}.error{background:#fde2df;color:#a01d12;padding:.5rem .7rem;border-radius:6px}
button{font:inherit;padding:.4rem .8rem;border-radius:6px;border:1px solid #b8bfcc;background:#fff;cursor:pointer;min-height:2.2rem}
button.approve{background:#17803d;border-color:#17803d;color:#fff}button.reject{background:#fff;color:#a01d12;border-color:#e3a49d}
button.link{background:none;border:none;color:#cfd6e4;padding:0;min-height:0}
header #copy-ai{background:#39425a;color:#fff;border-color:#56607a}
form.inline{display:inline}.actions-cell{white-space:nowrap}
.card{background:#fff;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0;border:1px solid #e3e6eb}
.card h3{margin:0 0 .3rem;font-size:1rem;word-break:break-all}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
pre{background:#111827;color:#e5e7eb;padding:.6rem;border-radius:6px;overflow:auto;max-height:20rem;font-size:.8rem;white-space:pre-wrap;word-break:break-all}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:.8rem}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#5b6475}
input,select{font:inherit;padding:.35rem .5rem;border:1px solid #b8bfcc;border-radius:6px;min-height:2.2rem}
#toast{position:fixed;bottom:1rem;left:50%;transform:translateX(-50%);background:#1d2330;color:#fff;padding:.5rem 1rem;border-radius:6px;display:none;z-index:9}
#toast.show{display:block}
.stats{display:flex;gap:.6rem;flex-wrap:wrap}.stat{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:.5rem .8rem;min-width:7rem}.stat b{display:block;font-size:1.3rem}
body.login main{max-width:22rem;margin-top:10vh}body.login form{display:flex;flex-direction:column;gap:.7rem}body.login label{display:flex;flex-direction:column}
.chain{list-style:none;padding:0}.chain ul{margin:.2rem 0;padding-left:1.2rem}
.copy-box{width:100%;height:12rem;font:12px/1.4 ui-monospace,monospace;margin-bottom:1rem}
tr.new{animation:flash 2s}@keyframes flash{from{background:#fff7c2}to{background:#fff}}
@media (max-width:640px){main{padding:.6rem}td,th{padding:.35rem .4rem}.hide-sm{display:none}}
`;
