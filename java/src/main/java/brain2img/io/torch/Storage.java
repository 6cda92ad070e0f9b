package brain2img.io.torch;

import brain2img.io.FormatException;

/**
 * A storage a pickled tensor points to through a persistent id: its key (the record {@code data/KEY} in a zip
 * file, the key in a legacy file's storage list), element type, element count, and — for the views of the legacy
 * format's {@code view_metadata} — the element offset into the keyed storage.
 */
record Storage(String key, Calls.StorageType type, long numel, long elementOffset) {
    Storage {
        if (type.dtype() == null) {
            throw new FormatException("storage " + Pickle.quote(key) + " is " + type.name() + " (" + type.torchDtype()
                    + "), a dtype this engine does not read");
        }
        if (numel < 0 || elementOffset < 0) throw new FormatException("storage " + Pickle.quote(key) + " has a negative size or offset");
    }

    int elementBytes() {
        return type.dtype().bytes;
    }
}
