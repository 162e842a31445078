package dev.outpost.ima.list;

import java.util.Optional;

/** The measurement templates the kernel ships, with the number of fields each one's template data holds. */
public enum ImaTemplate {
    /** Legacy template: SHA-1 file digest and a name hashed as a fixed 256-byte field. */
    IMA("ima", 2, 0),
    IMA_NG("ima-ng", 2, 0),
    IMA_SIG("ima-sig", 3, 1),
    IMA_BUF("ima-buf", 3, 1),
    IMA_MODSIG("ima-modsig", 5, 3);

    private final String templateName;
    private final int fieldCount;
    private final int fieldsAfterName;

    ImaTemplate(String templateName, int fieldCount, int fieldsAfterName) {
        this.templateName = templateName;
        this.fieldCount = fieldCount;
        this.fieldsAfterName = fieldsAfterName;
    }

    public String templateName() {
        return templateName;
    }

    public int fieldCount() {
        return fieldCount;
    }

    /** How many fields follow the name in the ASCII list; the path is everything between. */
    int fieldsAfterName() {
        return fieldsAfterName;
    }

    private static final ImaTemplate[] ALL = values();

    public static Optional<ImaTemplate> fromName(String name) {
        for (ImaTemplate t : ALL) {
            if (t.templateName.equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return templateName;
    }
}
