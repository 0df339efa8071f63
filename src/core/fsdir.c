/* fsdir: mkdir -p for the data directory and the SQLite file's folder. */
#include "core/fsdir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool fsdir_make(const char *dir, char *err, size_t err_size)
{
    char path[4096];

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        snprintf(err, err_size, "directory name too long: %s", dir);
        return false;
    }

    /* Each missing parent first; the last mkdir reports the real error. */
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            break;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create directory %s: %s", dir,
                 strerror(errno));
        return false;
    }
    return true;
}

bool fsdir_make_parent(const char *file, char *err, size_t err_size)
{
    char dir[4096];
    const char *slash = strrchr(file, '/');

    if (slash == NULL || slash == file)
        return true; /* the working directory, or "/" */
    size_t len = (size_t)(slash - file);
    if (len >= sizeof(dir)) {
        snprintf(err, err_size, "directory name too long: %s", file);
        return false;
    }
    memcpy(dir, file, len);
    dir[len] = '\0';
    return fsdir_make(dir, err, err_size);
}
