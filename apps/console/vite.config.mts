import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Static files for the API to serve at /console (apps/api/src/console.ts).
// Everything is bundled: no font, script or style is fetched from elsewhere.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The charts (recharts) are a chunk of their own, loaded with the job page.
    chunkSizeWarningLimit: 600,
  },
});
