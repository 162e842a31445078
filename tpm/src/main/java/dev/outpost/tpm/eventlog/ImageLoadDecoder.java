package dev.outpost.tpm.eventlog;

/** UEFI_IMAGE_LOAD_EVENT and the file path nodes of its EFI device path. */
final class ImageLoadDecoder {
    private static final int MEDIA_DEVICE_PATH = 0x04;
    private static final int MEDIA_FILEPATH = 0x04;
    private static final int END_OF_PATH = 0x7F;

    private ImageLoadDecoder() {
    }

    static EventData decode(byte[] data) throws EventLogException {
        ByteReader r = new ByteReader(data);
        long location = r.u64("ImageLocationInMemory");
        long length = r.u64("ImageLengthInMemory");
        long linkTime = r.u64("ImageLinkTimeAddress");
        long pathLength = r.u64("LengthOfDevicePath");
        byte[] devicePath = r.bytes(pathLength, "DevicePath");
        return new EventData.ImageLoad(location, length, linkTime, devicePath, filePath(devicePath));
    }

    /** Best effort: stops quietly at the first malformed node, since the path is informative only. */
    static String filePath(byte[] devicePath) {
        StringBuilder sb = new StringBuilder();
        int pos = 0;
        while (pos + 4 <= devicePath.length) {
            int type = devicePath[pos] & 0xFF;
            int subType = devicePath[pos + 1] & 0xFF;
            int len = (devicePath[pos + 2] & 0xFF) | (devicePath[pos + 3] & 0xFF) << 8;
            if (len < 4 || pos + len > devicePath.length || type == END_OF_PATH) {
                break;
            }
            if (type == MEDIA_DEVICE_PATH && subType == MEDIA_FILEPATH) {
                String part = Texts.utf16(devicePath, pos + 4, len - 4);
                if (sb.length() > 0 && !part.startsWith("\\") && sb.charAt(sb.length() - 1) != '\\') {
                    sb.append('\\');
                }
                sb.append(part);
            }
            pos += len;
        }
        return sb.toString();
    }
}
