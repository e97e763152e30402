/**
 * Order aggregate: `orders` with its joined subclass rows `drug_order`, `test_order`, `referral_order` folded in.
 * Order uuids are `orders.uuid` (the subclass tables have none).
 */
import { z } from 'zod';
import { Changes, f, shapeOf, Unresolved, type FieldSpec } from './fields.js';
import { eventType } from './envelope.js';

export const OrderFields = {
  uuid: f.uuid(),
  orderNumber: f.str('order_number'),
  orderAction: f.str('order_action', 'NEW, REVISE, DISCONTINUE or RENEW'),
  orderTypeUuid: f.ref('order_type_id', 'order_type'),
  conceptUuid: f.ref('concept_id', 'concept'),
  ordererUuid: f.ref('orderer', 'provider'),
  encounterUuid: f.ref('encounter_id', 'encounter'),
  patientUuid: f.ref('patient_id', 'person'),
  careSettingUuid: f.ref('care_setting', 'care_setting'),
  previousOrderUuid: f.ref('previous_order_id', 'orders'),
  orderGroupUuid: f.ref('order_group_id', 'order_group'),
  instructions: f.str('instructions'),
  dateActivated: f.datetime('date_activated'),
  autoExpireDate: f.datetime('auto_expire_date'),
  dateStopped: f.datetime('date_stopped'),
  scheduledDate: f.datetime('scheduled_date'),
  orderReasonUuid: f.ref('order_reason', 'concept'),
  orderReasonNonCoded: f.str('order_reason_non_coded'),
  urgency: f.str('urgency'),
  accessionNumber: f.str('accession_number'),
  commentToFulfiller: f.str('comment_to_fulfiller'),
  fulfillerStatus: f.str('fulfiller_status'),
  fulfillerComment: f.str('fulfiller_comment'),
  sortWeight: f.num('sort_weight'),
  formNamespaceAndPath: f.str('form_namespace_and_path'),
  creatorUuid: f.ref('creator', 'users'),
  dateCreated: f.datetime('date_created'),
  voided: f.bool('voided'),
  voidedByUuid: f.ref('voided_by', 'users'),
  dateVoided: f.datetime('date_voided'),
  voidReason: f.str('void_reason'),
} satisfies FieldSpec;

export const DrugOrderFields = {
  drugUuid: f.ref('drug_inventory_id', 'drug'),
  drugNonCoded: f.str('drug_non_coded'),
  dose: f.num('dose'),
  doseUnitsUuid: f.ref('dose_units', 'concept'),
  frequencyUuid: f.ref('frequency', 'order_frequency'),
  routeUuid: f.ref('route', 'concept'),
  asNeeded: f.bool('as_needed'),
  asNeededCondition: f.str('as_needed_condition'),
  dosingType: f.str('dosing_type'),
  dosingInstructions: f.str('dosing_instructions'),
  quantity: f.num('quantity'),
  quantityUnitsUuid: f.ref('quantity_units', 'concept'),
  numRefills: f.int('num_refills'),
  duration: f.int('duration'),
  durationUnitsUuid: f.ref('duration_units', 'concept'),
  brandName: f.str('brand_name'),
  dispenseAsWritten: f.bool('dispense_as_written'),
} satisfies FieldSpec;

/** `test_order` and `referral_order` have the same columns. */
export const ServiceOrderFields = {
  specimenSourceUuid: f.ref('specimen_source', 'concept'),
  laterality: f.str('laterality'),
  clinicalHistory: f.str('clinical_history'),
  frequencyUuid: f.ref('frequency', 'order_frequency'),
  numberOfRepeats: f.int('number_of_repeats'),
  locationUuid: f.ref('location', 'location'),
} satisfies FieldSpec;

export const Order = z.object(shapeOf(OrderFields)).meta({ id: 'Order' });
export const DrugOrderDetails = z.object(shapeOf(DrugOrderFields)).meta({ id: 'DrugOrderDetails' });
export const ServiceOrderDetails = z.object(shapeOf(ServiceOrderFields)).meta({ id: 'ServiceOrderDetails' });

const orderShape = {
  ...Order.shape,
  drugOrder: DrugOrderDetails.optional().describe('the `drug_order` row, when the transaction wrote it'),
  testOrder: ServiceOrderDetails.optional().describe('the `test_order` row, when the transaction wrote it'),
  referralOrder: ServiceOrderDetails.optional().describe('the `referral_order` row, when the transaction wrote it'),
  unresolved: Unresolved.optional(),
};
export const OrderData = z.object({ ...orderShape, changes: Changes.optional() });
export const OrderUpdatedData = z.object({ ...orderShape, changes: Changes });
export const OrderChainData = z.object({
  ...orderShape,
  changes: Changes.optional(),
  previousOrderUuid: z.string().min(1).describe('the order this REVISE/DISCONTINUE order acts on'),
  previousOrder: Order.optional().describe('the previous order after the transaction stopped it (`date_stopped` set)'),
});

const cls = [
  'org.openmrs.Order',
  'org.openmrs.DrugOrder',
  'org.openmrs.TestOrder',
  'org.openmrs.ReferralOrder',
] as const;
export const OrderPlaced = eventType('OrderPlaced', OrderData, {
  action: 'CREATED',
  classes: cls,
  description: 'A new order (order_action NEW or RENEW).',
});
export const OrderUpdated = eventType('OrderUpdated', OrderUpdatedData, {
  action: 'UPDATED',
  classes: cls,
  description:
    'An order changed in place: fulfiller status/comment, accession number, patient moved by a merge, date_stopped reset when its discontinue was voided.',
});
export const OrderRevised = eventType('OrderRevised', OrderChainData, {
  action: 'CREATED',
  classes: cls,
  description: 'A REVISE order (subject) replaced `previousOrderUuid`.',
});
export const OrderDiscontinued = eventType('OrderDiscontinued', OrderChainData, {
  action: 'CREATED',
  classes: cls,
  description: 'A DISCONTINUE order (subject) stopped `previousOrderUuid`.',
});
export const OrderVoided = eventType('OrderVoided', OrderData, {
  action: 'VOIDED',
  classes: cls,
  description: 'An order was voided.',
});
export const OrderUnvoided = eventType('OrderUnvoided', OrderData, {
  action: 'UNVOIDED',
  classes: cls,
  description: 'A voided order was restored.',
});

export type OrderPlaced = z.infer<typeof OrderPlaced>;
export type OrderUpdated = z.infer<typeof OrderUpdated>;
export type OrderRevised = z.infer<typeof OrderRevised>;
export type OrderDiscontinued = z.infer<typeof OrderDiscontinued>;
export type OrderVoided = z.infer<typeof OrderVoided>;
export type OrderUnvoided = z.infer<typeof OrderUnvoided>;
