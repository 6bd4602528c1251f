import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The admin app is served by the API server at /admin (src/http/admin/admin.routes.ts).
// `npm run dev:web` serves it with hot reload and proxies /api to a running `npm start`.
export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Chromium, Firefox and Safari all preload modules: no inline polyfill (the CSP forbids inline scripts).
    modulePreload: { polyfill: false },
    assetsDir: 'assets',
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8787' } },
});
