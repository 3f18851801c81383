/* flask-appcache: registers the service worker and offers a waiting version to the page.
 * Events on window: "appcache:update" (cancelable; detail.activate() switches to the new
 * version; not cancelled, a small prompt is shown) and "appcache:install-failed" (detail.url). */
(function () {
  "use strict";
  var options = {{ options }};
  if (!("serviceWorker" in navigator)) return;
  var container = navigator.serviceWorker;

  if (options.kill) {
    container.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) { registration.unregister(); });
    });
    if (window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) {
          if (name.indexOf(options.cacheName + "-") === 0) caches.delete(name);
        });
      });
    }
    return;
  }

  var accepted = false;
  var reloading = false;

  function activate(worker) {
    accepted = true;
    worker.postMessage({ type: "SKIP_WAITING" });
  }

  function prompt(accept) {
    if (document.getElementById("appcache-update")) return;
    var bar = document.createElement("div");
    bar.id = "appcache-update";
    bar.setAttribute("role", "status");
    bar.style.cssText = "position:fixed;bottom:1em;left:1em;padding:.5em 1em;background:#222;color:#fff;z-index:2147483647";
    bar.appendChild(document.createTextNode(options.message + " "));
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = options.button;
    button.addEventListener("click", accept);
    bar.appendChild(button);
    document.body.appendChild(bar);
  }

  function offer(worker) {
    if (options.update === "auto") return activate(worker);
    var accept = function () { activate(worker); };
    var event = new CustomEvent("appcache:update", { cancelable: true, detail: { activate: accept } });
    if (window.dispatchEvent(event)) prompt(accept);
  }

  container.addEventListener("controllerchange", function () {
    if (accepted && !reloading) {
      reloading = true;
      window.location.reload();
    }
  });

  container.addEventListener("message", function (event) {
    if (!event.data || event.data.type !== "APPCACHE_INSTALL_FAILED") return;
    console.warn("flask-appcache: the new version could not be installed:", event.data.url, event.data.reason);
    window.dispatchEvent(new CustomEvent("appcache:install-failed", { detail: event.data }));
  });

  function start() {
    var scope = options.scope ? { scope: options.scope } : undefined;
    container.register(options.url, scope).then(function (registration) {
      function track(worker) {
        worker.addEventListener("statechange", function () {
          if (worker.state === "installed" && container.controller) offer(worker);
        });
      }
      if (registration.waiting && container.controller) offer(registration.waiting);
      else if (registration.installing) track(registration.installing);
      registration.addEventListener("updatefound", function () {
        if (registration.installing) track(registration.installing);
      });
    });
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
