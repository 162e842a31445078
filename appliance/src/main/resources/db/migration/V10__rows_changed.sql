-- Every write to a device's row or its attestation record is seen by the appliance's caches of them
-- (store/RowCache), whichever statement makes it (a cascade from devices included): the trigger notes the table and
-- the device id, and the cached row is dropped when the transaction ends.
CREATE TRIGGER devices_changed AFTER INSERT, UPDATE, DELETE ON devices FOR EACH ROW
    CALL 'dev.outpost.appliance.store.RowsChanged';
CREATE TRIGGER attestations_changed AFTER INSERT, UPDATE, DELETE ON attestations FOR EACH ROW
    CALL 'dev.outpost.appliance.store.RowsChanged';
