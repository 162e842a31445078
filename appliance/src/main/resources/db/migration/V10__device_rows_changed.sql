-- Every write to a device row is seen by the appliance's cache of device rows (store/DeviceRowCache), whichever
-- statement makes it: the trigger notes the device id, and the cached row is dropped when the transaction ends.
CREATE TRIGGER devices_changed AFTER INSERT, UPDATE, DELETE ON devices FOR EACH ROW
    CALL 'dev.outpost.appliance.store.DeviceRowsChanged';
