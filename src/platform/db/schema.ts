// Table types for Kysely. Each feature's tables are added here with its migration.
export interface InstanceTable {
  key: string;
  value: string;
}

export interface Database {
  seler_instance: InstanceTable;
}
