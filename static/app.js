// Shared behaviour: tell the user when an HTMX request failed, instead of doing nothing.
document.addEventListener("htmx:responseError", (event) => {
  const toast = document.getElementById("toast");
  const status = event.detail.xhr.status;
  toast.textContent = document.documentElement.lang === "en"
    ? `The request failed (${status}). Try again; if it keeps failing, reload the page.`
    : `请求失败（${status}）。请重试；如仍失败，请刷新页面。`;
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 6000);
});
document.addEventListener("htmx:sendError", () => {
  const toast = document.getElementById("toast");
  toast.textContent = document.documentElement.lang === "en"
    ? "No connection to the server. Check the network and try again."
    : "无法连接服务器。请检查网络后重试。";
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 6000);
});
// The menu's drop-downs (templates/base.html) close when the user clicks elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.dropdown[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
