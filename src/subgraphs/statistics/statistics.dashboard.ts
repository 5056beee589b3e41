import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

/** The repository root (where package.json is), whether running from src/ or from dist/src/. */
function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('statistics dashboard: no package.json above ' + __dirname);
    dir = up;
  }
  return dir;
}

/**
 * Nothing on the page comes from elsewhere: scripts, styles and data are this origin's, so it
 * works without CDNs, and an injected script or a leaked token has nowhere to go.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the dashboard page at /dashboard: static files only, talking to /graphql with the
 * token the user pastes. Chart.js is served from node_modules (its UMD build), not a CDN.
 */
export function mountDashboard(app: express.Express): void {
  const dir = path.join(projectRoot(), 'src', 'subgraphs', 'statistics', 'dashboard');
  const chartJs = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    // frame-ancestors for browsers that ignore CSP (IE mode, older kernels of the browsers offices use).
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-cache');
    next();
  });
  router.get('/vendor/chart.umd.min.js', (_req, res) => {
    res.sendFile(chartJs);
  });
  router.use(express.static(dir, { index: 'index.html', dotfiles: 'deny' }));
  app.use('/dashboard', router);
}
