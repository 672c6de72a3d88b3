/// <reference types="vitest" />
// Vite build of the Runicorn web UI. The CMake target `web_ui` passes the output folder (the http
// plugin's web/ directory) through RUNICORN_WEB_OUT_DIR; a plain `npm run build` writes dist/.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import path from 'node:path';

const outDir = process.env.RUNICORN_WEB_OUT_DIR || 'dist';
const localesDir = path.resolve(__dirname, '../../i18n/locales');

export default defineConfig({
  plugins: [react()],
  base: '/',
  resolve: { alias: { '@locales': localesDir } },
  server: {
    fs: { allow: [__dirname, localesDir] },
    proxy: { '/api': { target: 'http://127.0.0.1:23300', ws: true } },
  },
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          if (id.includes('node_modules/react-dom') || id.includes('node_modules/react/') ||
              id.includes('node_modules/react-router') || id.includes('node_modules/scheduler')) return 'react';
          if (id.includes('node_modules/antd') || id.includes('node_modules/@ant-design') ||
              id.includes('node_modules/rc-') || id.includes('node_modules/@rc-component')) return 'antd';
          return undefined;
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    testTimeout: 20000,
  },
});
