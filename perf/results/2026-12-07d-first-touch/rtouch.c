#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void pass(const char*q,size_t sz,const char*what){ char buf[49152]; size_t n=sz/49152; double t=now(); unsigned long s=0;
    for(size_t i=0;i<n;i++){ size_t j=(i*2654435761u)%n; memcpy(buf,q+j*49152,49152); __asm__ volatile("" ::"r"(buf):"memory"); s+=buf[100]; }
    printf("  %s read pass %.3f s\n",what,now()-t); }
int main(int argc,char**argv){ size_t sz=(size_t)atol(argv[1])<<20;
  int fd=shm_open("/rtouch",O_CREAT|O_RDWR,0600); shm_unlink("/rtouch"); if(ftruncate(fd,sz))return 1;
  char*p=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0); madvise(p,sz,MADV_POPULATE_WRITE);
  for(size_t i=0;i<sz;i+=4096) p[i]=1; memset(p,5,sz);
  for(int mode=0;mode<3;mode++){ char*q=mmap(0,sz,PROT_READ,MAP_SHARED,fd,0); double t=now();
    if(mode==0) madvise(q,sz,MADV_POPULATE_READ);
    if(mode==1){ madvise(q,sz,MADV_POPULATE_READ); volatile char s=0; for(size_t i=0;i<sz;i+=4096) s+=q[i]; }
    if(mode==2){ volatile char s=0; for(size_t i=0;i<sz;i+=4096) s+=q[i]; }
    printf("mode %d setup %.3f s\n",mode,now()-t); pass(q,sz,"first"); pass(q,sz,"second"); munmap(q,sz);} }
