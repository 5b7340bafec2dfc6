import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';

/**
 * The web console (apps/console, built by `npm run build` into
 * apps/console/dist) as static files at /console, and a small home page at
 * / that links it and the API reference. Neither needs an API key: the
 * console's own calls to the API send the key the person signs in with.
 * Both are plain middleware, not API routes, so they are not in the
 * OpenAPI document.
 */

/** apps/console/dist, from apps/api/src (tests) and apps/api/dist (the built API) alike. */
export const CONSOLE_DIST = path.resolve(__dirname, '../../console/dist');

// The bundle is self-contained: everything from this origin, nothing from elsewhere.
// Inline styles: recharts sets style attributes on its SVG.
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export function serveConsole(app: Express, dist = CONSOLE_DIST): void {
  app.use(homePage);
  app.use('/console', consoleHeaders, express.static(dist, { index: 'index.html', setHeaders: cacheHeaders }), notBuilt(dist));
}

const consoleHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

/** Hashed assets never change; index.html is asked for again each time, so a new build shows at once. */
function cacheHeaders(res: express.Response, file: string): void {
  const asset = file.split(path.sep).includes('assets');
  res.setHeader('Cache-Control', asset ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/** Without a build, /console says how to make one (rather than a bare 404). */
function notBuilt(dist: string): RequestHandler {
  return (_req, res, next) => {
    if (existsSync(path.join(dist, 'index.html'))) return next();
    res.status(404).json({ detail: 'The web console is not built: run `npm run build` (it builds apps/console into apps/console/dist).' });
  };
}

const HOME = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>datagen</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1f24}a{color:#0a58ca}li{margin:.4rem 0}</style>
</head>
<body>
<h1>datagen</h1>
<p>A self-hosted synthetic data generation service, speaking the API of Pi Labs' "data generate".</p>
<ul>
<li><a href="/console/">Web console</a>: sign in with an API key, start jobs, watch them run, look inside them</li>
<li><a href="/docs">API reference</a> (Swagger UI)</li>
<li><a href="/openapi.json">OpenAPI document</a></li>
</ul>
</body>
</html>
`;

const homePage: RequestHandler = (req, res, next) => {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== '/') return next();
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'");
  res.type('html').send(HOME);
};
