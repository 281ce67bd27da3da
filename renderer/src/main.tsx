import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

/** Placeholder shell of the dashboard; issue 6 builds the real one on the control API contract. */
function App() {
  return (
    <main>
      <h1>eCDN Appliance</h1>
      <p>The dashboard is not built yet. Use the control API on the admin listener.</p>
    </main>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
