/**
 * The package entry: what a consumer imports from `openmrs-event-bridge`.
 */
// OpenMRS domain events: the catalog (zod schemas + inferred types such as PatientCreated), the mapper, routing.
export * from './domain/index.js';
