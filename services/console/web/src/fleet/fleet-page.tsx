import { Alert } from '../alert';
import { useFleet } from './fleet-data';
import { ServiceCard } from './service-card';

/** Every service of the port table at a glance, read again every 2 seconds. */
export function FleetPage() {
  const { fleet, error, refresh } = useFleet(2_000);
  return (
    <main class="fleet" aria-label="Fleet">
      <h1>Fleet</h1>
      <Alert message={error} />
      {!fleet && !error && <p aria-busy="true">Asking every service…</p>}
      {fleet?.services.length === 0 && (
        <p>No services: the port table is empty (run just gen), or CONSOLE_SERVICES names none.</p>
      )}
      {fleet?.services.map((service) => (
        <ServiceCard key={service.name} service={service} onChange={refresh} />
      ))}
    </main>
  );
}
