/** The drop DTO is shared with the notify job (its notifications' payload): it lives in @dropwatch/discovery. */
export { dropDto, toDropDto, type DropDto, type DropRow } from '@dropwatch/discovery';
