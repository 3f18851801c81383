/* Kill switch of flask-appcache (APPCACHE_KILL_SWITCH = True): this worker replaces the one a
 * browser has, deletes the caches flask-appcache made, unregisters itself and reloads the open
 * pages from the network. Set APPCACHE_KILL_SWITCH back to False to serve a working one again. */
"use strict";

const CACHE_NAME = {{ cache_name }};

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_NAME + "-")) await caches.delete(name);
      }
      await self.registration.unregister();
      for (const page of await self.clients.matchAll({ type: "window" })) page.navigate(page.url);
    })()
  );
});
